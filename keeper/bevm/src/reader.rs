//! Reads of the fund at a block: supply, fees, positions (through the staking precompile), native
//! TAO, signer set, the current epoch's creation file, requests, and the contract's logs.
//!
//! Every read names its block, so a keeper reading at a finalized block gets the same answer from
//! any honest node, now or later.

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Filter};
use serde::{Deserialize, Serialize};
use tao20_creation::eip712::CreationFile;
use tao20_creation::nav::{FundState, Holding};

use crate::bindings::{IStaking, TAO20};
use crate::deployment::Deployment;
use crate::events::{decode_log, LoggedEvent};
use crate::{Error, Result};

/// Largest block range one `eth_getLogs` asks for (public nodes refuse wider ones).
pub const MAX_LOG_RANGE: u64 = 2_000;

/// The contract's signer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerSet {
    /// `signerSetVersion`.
    pub version: u64,
    /// Signers, ascending.
    pub signers: Vec<Address>,
    /// Signatures a report needs.
    pub threshold: u8,
}

impl SignerSet {
    /// Whether `who` is in the set.
    pub fn contains(&self, who: &Address) -> bool {
        self.signers.binary_search(who).is_ok()
    }
}

/// One fund position: the vault's stake under the fund hotkey of a netuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundPosition {
    /// The subnet.
    pub netuid: u16,
    /// Its fund hotkey.
    pub hotkey: B256,
    /// Rao of alpha (`getStake(hotkey, vault, netuid)`).
    pub amount: u64,
}

/// The contract's fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fees {
    /// Mint fee, bps.
    pub mint_bps: u16,
    /// Redeem fee, bps.
    pub redeem_bps: u16,
    /// Management fee, bps a year.
    pub management_bps: u16,
}

/// The fund at one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundSnapshot {
    /// The block read.
    pub block: u64,
    /// `totalSupply()`.
    #[serde(with = "tao20_creation::dec")]
    pub total_supply: U256,
    /// Fees.
    pub fees: Fees,
    /// Block of the last management-fee accrual.
    pub last_accrual: u64,
    /// `pendingManagementFee()`: shares accrued but not yet minted.
    #[serde(with = "tao20_creation::dec")]
    pub pending_management_fee: U256,
    /// Positions, in the contract's netuid order (the vault's whole stake under each fund hotkey).
    pub positions: Vec<FundPosition>,
    /// Alpha under each fund hotkey booked to redeemers (`reserved(netuid)`), in the same order.
    pub reserved: Vec<u64>,
    /// `fundNativeBalance()`, wei.
    #[serde(with = "tao20_creation::dec")]
    pub native_wei: U256,
    /// The signer set.
    pub signer_set: SignerSet,
    /// Whether requests and mints are paused.
    pub paused: bool,
    /// The epoch current at the block.
    pub current_epoch: u64,
    /// Its creation file, once published.
    pub creation_file: Option<CreationFile>,
    /// The nonce the next sweep must carry.
    pub sweep_nonce: u64,
}

/// Wei per rao: BEVM's native TAO has 18 decimals, substrate's 9.
pub const WEI_PER_RAO: u64 = 1_000_000_000;

impl FundSnapshot {
    /// The fund as the creation core values it (native TAO in whole rao, rounded down).
    pub fn fund_state(&self) -> FundState {
        FundState {
            positions: self
                .positions
                .iter()
                .map(|p| Holding {
                    netuid: p.netuid,
                    amount: p.amount,
                })
                .collect(),
            reserved: self
                .positions
                .iter()
                .zip(&self.reserved)
                .filter(|(_, r)| **r > 0)
                .map(|(p, r)| Holding {
                    netuid: p.netuid,
                    amount: *r,
                })
                .collect(),
            native_tao_rao: self.native_wei / U256::from(WEI_PER_RAO),
            total_supply: self.total_supply,
            management_fee_bps: self.fees.management_bps,
            last_accrual_block: self.last_accrual,
        }
    }
}

/// A request as the contract stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    /// The request id.
    pub request_id: B256,
    /// The miner.
    pub miner: Address,
    /// Units.
    pub units: u32,
    /// Epoch.
    pub epoch_id: u64,
    /// Receiver of the shares.
    pub receiver: Address,
    /// Block of the request.
    pub request_block: u64,
    /// `None`, `Pending`, `Minted`, `Refunded` or `Expired`.
    pub status: RequestStatus,
    /// The coldkey that must sign the delivery.
    pub coldkey: B256,
    /// Slippage bound.
    #[serde(with = "tao20_creation::dec")]
    pub min_shares_out: U256,
    /// Bond, wei.
    #[serde(with = "tao20_creation::dec")]
    pub bond: U256,
}

/// A request's status in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RequestStatus {
    /// No such request.
    None,
    /// Open.
    Pending,
    /// Minted.
    Minted,
    /// Refunded.
    Refunded,
    /// Expired.
    Expired,
}

impl RequestStatus {
    fn from_u8(v: u8) -> Result<Self> {
        Ok(match v {
            0 => Self::None,
            1 => Self::Pending,
            2 => Self::Minted,
            3 => Self::Refunded,
            4 => Self::Expired,
            other => {
                return Err(Error::decode(
                    "request status",
                    format!("unknown value {other}"),
                ))
            }
        })
    }
}

/// Reads of one TAO20 deployment.
#[derive(Debug, Clone)]
pub struct Reader {
    provider: DynProvider,
    contract: TAO20::TAO20Instance<DynProvider>,
    staking: IStaking::IStakingInstance<DynProvider>,
    vault: B256,
}

/// A stored creation file as read: its fields, the stored hash, the signer-set version then.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileParts {
    file: CreationFile,
    hash: B256,
    version: u64,
}

impl FileParts {
    /// The file with the signer-set version that reproduces the stored hash: a signer-set change
    /// after publication leaves an older version in it.
    fn matching(&self) -> Option<CreationFile> {
        let mut file = self.file.clone();
        (1..=self.version).rev().find_map(|v| {
            file.signer_set_version = v;
            (tao20_creation::eip712::creation_file_hash(&file) == self.hash).then(|| file.clone())
        })
    }
}

fn at(block: u64) -> BlockId {
    BlockId::number(block)
}

fn call_err(what: &str, block: u64) -> impl FnOnce(alloy::contract::Error) -> Error + '_ {
    move |e| crate::writer::classify(format!("{what} at block {block}"), e)
}

impl Reader {
    /// A reader of the deployment through `provider`.
    pub fn new(provider: DynProvider, deployment: &Deployment) -> Self {
        Self {
            contract: TAO20::new(deployment.tao20, provider.clone()),
            staking: IStaking::new(deployment.staking_precompile, provider.clone()),
            provider,
            vault: deployment.vault_coldkey,
        }
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The contract's address.
    pub fn address(&self) -> Address {
        *self.contract.address()
    }

    /// The latest block number.
    pub async fn head(&self) -> Result<u64> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))
    }

    /// The contract's schedule constants at the head: `(GENESIS_BLOCK, EPOCH_LENGTH,
    /// DELIVERY_WINDOW, EXPIRY_GRACE)`.
    pub async fn schedule(&self) -> Result<(u64, u64, u64, u64)> {
        let c = &self.contract;
        let what = |name: &'static str| move |e| Error::rpc(format!("{name}()"), e);
        let genesis = c
            .GENESIS_BLOCK()
            .call()
            .await
            .map_err(what("GENESIS_BLOCK"))?;
        let length = c
            .EPOCH_LENGTH()
            .call()
            .await
            .map_err(what("EPOCH_LENGTH"))?;
        let window = c
            .DELIVERY_WINDOW()
            .call()
            .await
            .map_err(what("DELIVERY_WINDOW"))?;
        let grace = c
            .EXPIRY_GRACE()
            .call()
            .await
            .map_err(what("EXPIRY_GRACE"))?;
        Ok((genesis, length, u64::from(window), u64::from(grace)))
    }

    /// Refuses a deployment file whose schedule is not the contract's: the keeper's epochs,
    /// delivery windows and expiries would not be the contract's (and not its peers').
    pub async fn check_deployment(&self, d: &Deployment) -> Result<()> {
        let (genesis, length, window, grace) = self.schedule().await?;
        for (name, file, chain) in [
            ("genesisBlock", d.genesis_block, genesis),
            ("epochLength", d.epoch_length, length),
            ("deliveryWindow", d.delivery_window, window),
            ("expiryGrace", d.expiry_grace, grace),
        ] {
            if file != chain {
                return Err(Error::invalid(
                    format!("deployment file's {name}"),
                    format!("{file}, but the contract at {} holds {chain}", d.tao20),
                ));
            }
        }
        Ok(())
    }

    /// The node's `finalized` block (Frontier maps it to the substrate finalized head).
    pub async fn finalized(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Finalized)
            .await
            .map_err(|e| Error::rpc("eth_getBlockByNumber(finalized)", e))?
            .ok_or_else(|| Error::rpc_answer("eth_getBlockByNumber(finalized)", "no block"))?;
        Ok(block.header.number)
    }

    /// The hash of block `number`, `None` if the node has no such block (a block past its head
    /// on anvil; on a pruned node, also a block it has discarded).
    pub async fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(|e| Error::rpc(format!("eth_getBlockByNumber({number})"), e))?;
        Ok(block.map(|b| b.header.hash))
    }

    /// The input of transaction `tx`; `None` when the node does not have it (a pruned node
    /// answers `null` for a discarded block's transactions).
    pub async fn transaction_input(&self, tx: B256) -> Result<Option<Bytes>> {
        use alloy::consensus::Transaction as _;
        let found = self
            .provider
            .get_transaction_by_hash(tx)
            .await
            .map_err(|e| Error::rpc(format!("eth_getTransactionByHash({tx})"), e))?;
        Ok(found.map(|t| t.input().clone()))
    }

    /// The hash of block `number`, telling the two reasons a node has no such block apart:
    /// `None` for a block past its head (not produced yet, or reorganised away onto a shorter
    /// chain), [`Error::StateDiscarded`] for a block at or below its head (a pruned node answers
    /// `null` for what it no longer keeps, and `eth_getLogs` over such blocks silently returns
    /// nothing for them).
    pub async fn kept_block_hash(&self, number: u64, what: &str) -> Result<Option<B256>> {
        if let Some(hash) = self.block_hash(number).await? {
            return Ok(Some(hash));
        }
        match self.discarded(number, what).await? {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Whether the node has discarded block `number`: it has no such block although its head is
    /// at or past it, asked twice so that a head that moved (or a load balancer that sent the two
    /// requests to different nodes) is not taken for pruning.
    async fn discarded(&self, number: u64, what: &str) -> Result<Option<Error>> {
        let head = self.head().await?;
        if number > head || self.block_hash(number).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(Error::StateDiscarded {
            what: what.to_string(),
            block: number,
            head,
        }))
    }

    /// `result` of a read at `block`, with an endpoint failure explained as
    /// [`Error::StateDiscarded`] when the node no longer keeps that block (Frontier answers a
    /// read of discarded state with a generic internal error, which would otherwise be retried
    /// forever).
    async fn explained<T>(&self, block: u64, what: &str, result: Result<T>) -> Result<T> {
        match result {
            Err(e @ Error::Rpc { .. }) => match self.discarded(block, what).await {
                Ok(Some(discarded)) => Err(discarded),
                // The check failing too says nothing more than the first error.
                Ok(None) | Err(_) => Err(e),
            },
            other => other,
        }
    }

    /// The first block at or after `from` at which the contract has code: where its history
    /// starts (a deployment file's `deployBlock` is the block the deploy script ran at, which can
    /// precede the block that included the creation).
    pub async fn deployed_at(&self, from: u64) -> Result<u64> {
        let has_code = |b: u64| async move {
            let code = self
                .provider
                .get_code_at(self.address())
                .block_id(BlockId::number(b))
                .await
                .map(|c| !c.is_empty())
                .map_err(|e| Error::rpc(format!("eth_getCode at block {b}"), e));
            self.explained(b, "searching for the deployment block", code)
                .await
        };
        let head = self.head().await?;
        if !has_code(head).await? {
            return Err(Error::invalid(
                "deployment",
                format!("no contract at {} at block {head}", self.address()),
            ));
        }
        let (mut lo, mut hi) = (from, head);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if has_code(mid).await? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// `getStake(hotkey, coldkey, netuid)` at a block.
    pub async fn stake(&self, hotkey: B256, coldkey: B256, netuid: u16, block: u64) -> Result<u64> {
        let read = self.read_stake(hotkey, coldkey, netuid, block).await;
        self.explained(block, "getStake", read).await
    }

    async fn read_stake(
        &self,
        hotkey: B256,
        coldkey: B256,
        netuid: u16,
        block: u64,
    ) -> Result<u64> {
        let raw = self
            .staking
            .getStake(hotkey, coldkey, U256::from(netuid))
            .block(at(block))
            .call()
            .await
            .map_err(call_err("getStake", block))?;
        u64::try_from(raw).map_err(|_| Error::decode("getStake", format!("{raw} exceeds u64")))
    }

    /// The signer set at a block.
    pub async fn signer_set(&self, block: u64) -> Result<SignerSet> {
        let read = self.read_signer_set(block).await;
        self.explained(block, "the signer set", read).await
    }

    async fn read_signer_set(&self, block: u64) -> Result<SignerSet> {
        let s = self
            .contract
            .signers()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("signers", block))?;
        let version = self
            .contract
            .signerSetVersion()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("signerSetVersion", block))?;
        Ok(SignerSet {
            version,
            signers: s._0,
            threshold: s.threshold,
        })
    }

    /// The creation file of `epoch` as stored by `publishEpoch`, read at `block`; `None` before it
    /// is published. The signer-set version is the one current when it was published (the
    /// contract requires it), found by matching the stored struct hash.
    pub async fn creation_file(&self, epoch: u64, block: u64) -> Result<Option<CreationFile>> {
        let read = self.read_creation_file(epoch, block).await;
        self.explained(block, "the creation file", read).await
    }

    async fn read_creation_file(&self, epoch: u64, block: u64) -> Result<Option<CreationFile>> {
        let Some(first) = self.creation_file_parts(epoch, block).await? else {
            return Ok(None);
        };
        if let Some(file) = first.matching() {
            return Ok(Some(file));
        }
        // Three calls at one block: a node that answered them from different states (seen once
        // on anvil, right at publication) gives parts no version reproduces. A second read tells
        // that apart from a real mismatch: different parts at the same block are the node's
        // inconsistency, retried later; the same parts are not.
        let what = format!("creation file of epoch {epoch} at block {block}");
        match self.creation_file_parts(epoch, block).await? {
            Some(again) if again == first => Err(Error::decode(
                what,
                format!(
                    "no signer-set version up to {} reproduces the stored hash {}",
                    first.version, first.hash
                ),
            )),
            Some(again) => again.matching().map(Some).ok_or_else(|| {
                Error::rpc_answer(what, "the node answered two reads of one block differently")
            }),
            None => Err(Error::rpc_answer(
                what,
                "published in one read of the block and not in the next",
            )),
        }
    }

    async fn creation_file_parts(&self, epoch: u64, block: u64) -> Result<Option<FileParts>> {
        let stored = self
            .contract
            .epoch(epoch)
            .block(at(block))
            .call()
            .await
            .map_err(call_err("epoch", block))?;
        if stored.fileHash == B256::ZERO {
            return Ok(None);
        }
        let assets = self
            .contract
            .epochAssets(epoch)
            .block(at(block))
            .call()
            .await
            .map_err(call_err("epochAssets", block))?;
        let version = self.signer_set(block).await?.version;
        Ok(Some(FileParts {
            file: CreationFile {
                epoch_id: epoch,
                valid_from_block: stored.validFromBlock,
                valid_until_block: stored.validUntilBlock,
                shares_per_unit: stored.sharesPerUnit,
                tolerance_bps: stored.toleranceBps,
                min_units: stored.minUnits,
                assets: assets.iter().map(Into::into).collect(),
                signer_set_version: version,
            },
            hash: stored.fileHash,
            version,
        }))
    }

    /// The first block at which `expire(requestId)` succeeds (`None` while paused or when the
    /// request is not pending): paused time does not count against a miner.
    pub async fn expireable_at(&self, request_id: B256, block: u64) -> Result<Option<u64>> {
        let read = self.read_expireable_at(request_id, block).await;
        self.explained(block, "expireableAt", read).await
    }

    async fn read_expireable_at(&self, request_id: B256, block: u64) -> Result<Option<u64>> {
        let v = self
            .contract
            .expireableAt(request_id)
            .block(at(block))
            .call()
            .await
            .map_err(call_err("expireableAt", block))?;
        Ok(u64::try_from(v).ok())
    }

    /// A request at a block; `None` if unknown.
    pub async fn request(&self, request_id: B256, block: u64) -> Result<Option<RequestInfo>> {
        let read = self.read_request(request_id, block).await;
        self.explained(block, "a request", read).await
    }

    async fn read_request(&self, request_id: B256, block: u64) -> Result<Option<RequestInfo>> {
        let r = self
            .contract
            .request(request_id)
            .block(at(block))
            .call()
            .await
            .map_err(call_err("request", block))?;
        let status = RequestStatus::from_u8(r.status)?;
        if status == RequestStatus::None {
            return Ok(None);
        }
        Ok(Some(RequestInfo {
            request_id,
            miner: r.miner,
            units: r.units,
            epoch_id: r.epochId,
            receiver: r.receiver,
            request_block: u64::try_from(r.requestBlock).unwrap_or(u64::MAX),
            status,
            coldkey: r.coldkey,
            min_shares_out: U256::from(r.minSharesOut),
            bond: U256::from(r.bond),
        }))
    }

    /// The fund at `block`.
    pub async fn fund(&self, block: u64) -> Result<FundSnapshot> {
        let read = self.read_fund(block).await;
        self.explained(block, "the fund", read).await
    }

    async fn read_fund(&self, block: u64) -> Result<FundSnapshot> {
        let c = &self.contract;
        let total_supply = c
            .totalSupply()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("totalSupply", block))?;
        let f = c
            .fees()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("fees", block))?;
        let last_accrual = c
            .lastAccrual()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("lastAccrual", block))?;
        let pending_management_fee = c
            .pendingManagementFee()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("pendingManagementFee", block))?;
        let netuids = c
            .fundNetuids()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("fundNetuids", block))?;
        let mut positions = Vec::with_capacity(netuids.len());
        let mut reserved = Vec::with_capacity(netuids.len());
        for netuid in netuids {
            let r = c
                .reserved(netuid)
                .block(at(block))
                .call()
                .await
                .map_err(call_err("reserved", block))?;
            reserved.push(
                u64::try_from(r)
                    .map_err(|_| Error::decode("reserved", format!("{r} exceeds u64")))?,
            );
            let hotkey = c
                .fundHotkey(netuid)
                .block(at(block))
                .call()
                .await
                .map_err(call_err("fundHotkey", block))?;
            let amount = self.stake(hotkey, self.vault, netuid, block).await?;
            positions.push(FundPosition {
                netuid,
                hotkey,
                amount,
            });
        }
        let native_wei = c
            .fundNativeBalance()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("fundNativeBalance", block))?;
        let paused = c
            .paused()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("paused", block))?;
        let sweep_nonce = c
            .sweepNonce()
            .block(at(block))
            .call()
            .await
            .map_err(call_err("sweepNonce", block))?;
        let current_epoch = c
            .epochAt(U256::from(block))
            .block(at(block))
            .call()
            .await
            .map_err(call_err("epochAt", block))?;
        let creation_file = self.creation_file(current_epoch, block).await?;
        Ok(FundSnapshot {
            block,
            total_supply,
            fees: Fees {
                mint_bps: f.mintFeeBps,
                redeem_bps: f.redeemFeeBps,
                management_bps: f.managementFeeBps,
            },
            last_accrual,
            pending_management_fee,
            positions,
            reserved,
            native_wei,
            signer_set: self.signer_set(block).await?,
            paused,
            current_epoch,
            creation_file,
            sweep_nonce,
        })
    }

    /// The contract's events in blocks `[from, to]`, in chain order, fetched in ranges of at most
    /// [`MAX_LOG_RANGE`] blocks. [`Error::StateDiscarded`] when the node no longer keeps `from`:
    /// a pruned node would answer with the events of the blocks it still has only, silently.
    pub async fn logs(&self, from: u64, to: u64) -> Result<Vec<LoggedEvent>> {
        if from <= to {
            // The window only moves up while the ranges are read: its lowest block is the one to check.
            self.kept_block_hash(from, "reading the contract's events")
                .await?;
        }
        self.logs_of_kept_blocks(from, to).await
    }

    /// [`Reader::logs`] for a caller that has checked the node keeps `from`.
    pub(crate) async fn logs_of_kept_blocks(&self, from: u64, to: u64) -> Result<Vec<LoggedEvent>> {
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start.saturating_add(MAX_LOG_RANGE - 1));
            let filter = Filter::new()
                .address(self.address())
                .from_block(start)
                .to_block(end);
            let logs = self
                .provider
                .get_logs(&filter)
                .await
                .map_err(|e| Error::rpc(format!("eth_getLogs({start}..={end})"), e))?;
            for log in &logs {
                if log.removed {
                    continue;
                }
                out.push(decode_log(log)?);
            }
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
        out.sort_by_key(|e| (e.block, e.log_index));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tao20_creation::eip712::{creation_file_hash, Asset};

    fn parts(published_under: u64, current: u64) -> FileParts {
        let mut file = CreationFile {
            epoch_id: 3,
            valid_from_block: 302_400,
            valid_until_block: 403_199,
            shares_per_unit: U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64)),
            tolerance_bps: 25,
            min_units: 1,
            assets: vec![
                Asset {
                    netuid: 2,
                    qty_per_unit: 40_000_000_000,
                    weight_bps: 6_000,
                },
                Asset {
                    netuid: 5,
                    qty_per_unit: 9_000_000_000,
                    weight_bps: 4_000,
                },
            ],
            signer_set_version: published_under,
        };
        let hash = creation_file_hash(&file);
        file.signer_set_version = current;
        FileParts {
            file,
            hash,
            version: current,
        }
    }

    #[test]
    fn the_stored_hash_names_the_signer_set_version_the_file_was_published_under() {
        let p = parts(2, 4);
        assert_eq!(p.matching().map(|f| f.signer_set_version), Some(2));
        assert_eq!(
            parts(4, 4).matching().map(|f| f.signer_set_version),
            Some(4)
        );
        // A file read from two different states (here: another asset list) matches no version.
        let mut torn = parts(1, 1);
        torn.file.assets.pop();
        assert_eq!(torn.matching(), None);
        // Published under a version newer than the one read: not reproduced either.
        assert_eq!(parts(3, 2).matching(), None);
    }
}
