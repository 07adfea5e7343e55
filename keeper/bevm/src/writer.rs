//! Transactions to the contract: `publishEpoch`, `mint`, `refund`, `sweep`, `expire` (and, for
//! miners and tests, `requestCreation` and `redeem`).
//!
//! Each send is two steps, so a keeper can persist the transaction hash in between and resume
//! after a crash: [`Writer::send`] simulates the call at the latest block (a revert is decoded
//! into the contract's custom error; "already settled" — another keeper was first — is an outcome
//! of its own), then signs and broadcasts it, nonce and fees filled by alloy's fillers;
//! [`Writer::confirm`] waits for the receipt and the configured confirmations, and explains a
//! failed receipt by re-simulating the call at its block (a mined failure carries no revert data).

use std::time::Duration;

use alloy::contract::CallBuilder;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::{SolCall, SolInterface};
use serde::{Deserialize, Serialize};
use tao20_creation::eip712::{CreationFile, CreationReport, Eip712Message, RefundReport, Sweep};

use crate::bindings::TAO20::{self, TAO20Errors};
use crate::error::ContractError;
use crate::{Error, Result};

/// What sending a report achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Sent {
    /// Broadcast; confirm it with [`Writer::confirm`].
    Broadcast {
        /// The transaction hash.
        tx: B256,
    },
    /// The contract already settled the subject (another keeper's transaction was first).
    AlreadySettled {
        /// The contract's answer to the simulation.
        reason: ContractError,
    },
}

/// A confirmed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Included {
    /// The transaction hash.
    pub tx: B256,
    /// Its block.
    pub block: u64,
    /// Gas it used.
    pub gas_used: u64,
}

/// The outcome of a confirmed send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Confirmed {
    /// Mined successfully with the required confirmations.
    Included(Included),
    /// Mined but reverted because the subject was settled by someone else in the meantime.
    AlreadySettled {
        /// The transaction.
        tx: B256,
        /// Its block.
        block: u64,
        /// The re-simulated revert.
        reason: ContractError,
    },
}

/// Which contract function a transaction calls, with what: kept by the caller with the hash, so
/// a restarted keeper can confirm (and explain) a transaction it sent before the crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "call")]
pub enum Call {
    /// `publishEpoch(file, signatures)`.
    PublishEpoch {
        /// The file.
        file: CreationFile,
        /// Signatures sorted by signer.
        signatures: Vec<Bytes>,
    },
    /// `mint(report, signatures)`.
    Mint {
        /// The report.
        report: CreationReport,
        /// Signatures sorted by signer.
        signatures: Vec<Bytes>,
    },
    /// `refund(report, signatures)`.
    Refund {
        /// The report.
        report: RefundReport,
        /// Signatures sorted by signer.
        signatures: Vec<Bytes>,
    },
    /// `sweep(order, signatures)`.
    Sweep {
        /// The sweep.
        order: Sweep,
        /// Signatures sorted by signer.
        signatures: Vec<Bytes>,
    },
    /// `expire(requestId)`.
    Expire {
        /// The request.
        request_id: B256,
    },
}

impl Call {
    /// The contract function's name.
    pub fn name(&self) -> &'static str {
        match self {
            Call::PublishEpoch { .. } => "publishEpoch",
            Call::Mint { .. } => "mint",
            Call::Refund { .. } => "refund",
            Call::Sweep { .. } => "sweep",
            Call::Expire { .. } => "expire",
        }
    }

    /// The calldata.
    pub fn calldata(&self) -> Bytes {
        match self {
            Call::PublishEpoch { file, signatures } => TAO20::publishEpochCall {
                file: file.into(),
                signatures: signatures.clone(),
            }
            .abi_encode(),
            Call::Mint { report, signatures } => TAO20::mintCall {
                report: report.into(),
                signatures: signatures.clone(),
            }
            .abi_encode(),
            Call::Refund { report, signatures } => TAO20::refundCall {
                report: report.into(),
                signatures: signatures.clone(),
            }
            .abi_encode(),
            Call::Sweep { order, signatures } => TAO20::sweepCall {
                order: order.into(),
                signatures: signatures.clone(),
            }
            .abi_encode(),
            Call::Expire { request_id } => TAO20::expireCall {
                requestId: *request_id,
            }
            .abi_encode(),
        }
        .into()
    }

    /// The report call `input` encodes, if it is one of the four that carry signatures
    /// (`publishEpoch`, `mint`, `refund`, `sweep`): what a landed transaction's signers signed.
    pub fn from_calldata(input: &[u8]) -> Option<Call> {
        let selector: [u8; 4] = input.get(..4)?.try_into().ok()?;
        Some(match selector {
            TAO20::publishEpochCall::SELECTOR => {
                let c = TAO20::publishEpochCall::abi_decode(input).ok()?;
                Call::PublishEpoch {
                    file: (&c.file).into(),
                    signatures: c.signatures,
                }
            }
            TAO20::mintCall::SELECTOR => {
                let c = TAO20::mintCall::abi_decode(input).ok()?;
                Call::Mint {
                    report: (&c.report).into(),
                    signatures: c.signatures,
                }
            }
            TAO20::refundCall::SELECTOR => {
                let c = TAO20::refundCall::abi_decode(input).ok()?;
                Call::Refund {
                    report: (&c.report).into(),
                    signatures: c.signatures,
                }
            }
            TAO20::sweepCall::SELECTOR => {
                let c = TAO20::sweepCall::abi_decode(input).ok()?;
                Call::Sweep {
                    order: (&c.order).into(),
                    signatures: c.signatures,
                }
            }
            _ => return None,
        })
    }

    /// The signed message and its signatures; `None` for `expire`, which carries none.
    pub fn signed(&self) -> Option<(Eip712Message, &[Bytes])> {
        match self {
            Call::PublishEpoch { file, signatures } => {
                Some((Eip712Message::CreationFile(file.clone()), signatures))
            }
            Call::Mint { report, signatures } => {
                Some((Eip712Message::CreationReport(report.clone()), signatures))
            }
            Call::Refund { report, signatures } => {
                Some((Eip712Message::RefundReport(report.clone()), signatures))
            }
            Call::Sweep { order, signatures } => {
                Some((Eip712Message::Sweep(order.clone()), signatures))
            }
            Call::Expire { .. } => None,
        }
    }

    /// Whether a revert means the subject is already settled on chain: the request is no longer
    /// pending, the epoch is published, the delivery refunded, the sweep nonce used.
    pub fn is_settled(&self, error: &TAO20Errors) -> bool {
        match (self, error) {
            (Call::PublishEpoch { .. }, TAO20Errors::EpochAlreadyPublished(_)) => true,
            (Call::Mint { .. } | Call::Expire { .. }, TAO20Errors::RequestNotPending(_)) => true,
            (Call::Refund { .. }, TAO20Errors::RequestNotPending(_)) => true,
            (Call::Refund { .. }, TAO20Errors::DeliverySettled(_)) => true,
            (Call::Refund { .. }, TAO20Errors::NothingToRefund(_)) => true,
            (Call::Sweep { order, .. }, TAO20Errors::WrongSweepNonce(e)) => {
                order.nonce < e.expected
            }
            _ => false,
        }
    }
}

fn decode_revert(data: &Bytes) -> ContractError {
    match TAO20Errors::abi_decode(data) {
        Ok(e) => {
            let detail = format!("{e:?}");
            let name = detail.split('(').next().unwrap_or("unknown").to_string();
            // `Name(Name { field: value })`: keep the inner struct for the detail.
            let inner = detail
                .strip_prefix(&format!("{name}("))
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or(&detail)
                .to_string();
            ContractError {
                name,
                detail: inner,
                data: data.clone(),
            }
        }
        Err(_) => ContractError {
            name: "unknown".into(),
            detail: format!("undecodable revert data {data}"),
            data: data.clone(),
        },
    }
}

/// Turns an alloy contract error into the adapter's: a revert is decoded into the contract's
/// custom error, anything else is an RPC failure of `what`.
pub(crate) fn classify(what: String, e: alloy::contract::Error) -> Error {
    match e.as_revert_data() {
        Some(data) => Error::Reverted {
            call: what,
            error: decode_revert(&data),
        },
        None => Error::rpc(what, e),
    }
}

/// As [`classify`], for a transport error (a node's answer to `eth_estimateGas`).
pub(crate) fn classify_rpc(what: String, e: alloy::transports::TransportError) -> Error {
    classify(what, alloy::contract::Error::TransportError(e))
}

/// The revert of `error`, if it is one, with its decoded contract error.
fn revert_of(error: &Error) -> Option<&ContractError> {
    match error {
        Error::Reverted { error, .. } => Some(error),
        _ => None,
    }
}

/// Sends the contract's transactions as one account.
#[derive(Debug, Clone)]
pub struct Writer {
    provider: DynProvider,
    contract: Address,
    from: Address,
    confirmations: u64,
    timeout: Duration,
    poll: Duration,
    /// The sender's key, for transactions built and signed here ([`crate::txman`]).
    wallet: Option<alloy::network::EthereumWallet>,
}

impl Writer {
    /// A writer through a provider that signs as `from` (see [`crate::rpc::connect_with_signer`]).
    /// Receipts are awaited for `confirmations` blocks (1 = the including block), at most
    /// `timeout`.
    pub fn new(
        provider: DynProvider,
        contract: Address,
        from: Address,
        confirmations: u64,
        timeout: Duration,
    ) -> Self {
        Self {
            provider,
            contract,
            from,
            confirmations: confirmations.max(1),
            timeout,
            poll: Duration::from_millis(200),
            wallet: None,
        }
    }

    /// Signs transactions built here ([`crate::txman`]) with `key`, which must be `from`'s.
    pub fn with_wallet(mut self, key: alloy::signers::local::PrivateKeySigner) -> Self {
        self.wallet = Some(alloy::network::EthereumWallet::from(key));
        self
    }

    pub(crate) fn wallet_ref(&self) -> Option<&alloy::network::EthereumWallet> {
        self.wallet.as_ref()
    }

    pub(crate) fn provider_ref(&self) -> &DynProvider {
        &self.provider
    }

    /// The contract.
    pub fn contract(&self) -> Address {
        self.contract
    }

    /// Blocks a receipt needs (1 = the including block).
    pub fn confirmations(&self) -> u64 {
        self.confirmations
    }

    /// Polls for receipts this often (200 ms by default).
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The sending account.
    pub fn from(&self) -> Address {
        self.from
    }

    fn builder(&self, call: &Call) -> CallBuilder<&DynProvider, ()> {
        CallBuilder::new_raw(&self.provider, call.calldata())
            .to(self.contract)
            .from(self.from)
    }

    async fn simulate(&self, call: &Call, block: Option<u64>) -> Result<()> {
        // Without a block, simulate on top of the pool: a peer's transmission that is broadcast but
        // not yet mined already settles the subject, and sending a second one only burns gas.
        let b = self
            .builder(call)
            .block(block.map_or_else(alloy::eips::BlockId::pending, alloy::eips::BlockId::number));
        b.call_raw()
            .await
            .map(|_| ())
            .map_err(|e| classify(call.name().to_string(), e))
    }

    pub(crate) async fn simulate_pending(&self, call: &Call) -> Result<()> {
        self.simulate(call, None).await
    }

    pub(crate) async fn simulate_latest(&self, call: &Call) -> Result<()> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))?;
        self.simulate(call, Some(head)).await
    }

    pub(crate) fn settled_reason(call: &Call, error: &Error) -> Option<ContractError> {
        Self::settled(call, error)
    }

    pub(crate) async fn explain(&self, call: &Call, tx: B256, block: u64) -> Result<Confirmed> {
        self.explain_failure(call, tx, block).await
    }

    fn settled(call: &Call, error: &Error) -> Option<ContractError> {
        let revert = revert_of(error)?;
        let decoded = TAO20Errors::abi_decode(&revert.data).ok()?;
        call.is_settled(&decoded).then(|| revert.clone())
    }

    /// Simulates `call` on the pending block and broadcasts it.
    pub async fn send(&self, call: &Call) -> Result<Sent> {
        if let Err(e) = self.simulate(call, None).await {
            if let Some(reason) = Self::settled(call, &e) {
                return Ok(Sent::AlreadySettled { reason });
            }
            return Err(e);
        }
        match self.builder(call).send().await {
            Ok(pending) => Ok(Sent::Broadcast {
                tx: *pending.tx_hash(),
            }),
            // Gas estimation runs the call once more and can meet a settlement that landed in
            // between.
            Err(e) => {
                let e = classify(call.name().to_string(), e);
                match Self::settled(call, &e) {
                    Some(reason) => Ok(Sent::AlreadySettled { reason }),
                    None => Err(e),
                }
            }
        }
    }

    /// Waits for `tx` (a transaction of `call`) to be mined with the configured confirmations.
    pub async fn confirm(&self, call: &Call, tx: B256) -> Result<Confirmed> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let receipt = self
                .provider
                .get_transaction_receipt(tx)
                .await
                .map_err(|e| Error::rpc(format!("eth_getTransactionReceipt({tx})"), e))?;
            if let Some(r) = receipt {
                let block = r
                    .block_number
                    .ok_or_else(|| Error::decode(format!("receipt of {tx}"), "no block number"))?;
                let head = self
                    .provider
                    .get_block_number()
                    .await
                    .map_err(|e| Error::rpc("eth_blockNumber", e))?;
                if head.saturating_add(1) >= block.saturating_add(self.confirmations) {
                    if r.status() {
                        return Ok(Confirmed::Included(Included {
                            tx,
                            block,
                            gas_used: r.gas_used,
                        }));
                    }
                    return self.explain_failure(call, tx, block).await;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("{} transaction {tx}", call.name()),
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn explain_failure(&self, call: &Call, tx: B256, block: u64) -> Result<Confirmed> {
        // The state at the end of the block includes whatever settled the subject first.
        match self.simulate(call, Some(block)).await {
            Ok(()) => Err(Error::FailedWithoutReason {
                call: call.name().to_string(),
                tx,
                block,
            }),
            Err(e) => match Self::settled(call, &e) {
                Some(reason) => Ok(Confirmed::AlreadySettled { tx, block, reason }),
                None => Err(e),
            },
        }
    }

    /// [`Writer::send`] then [`Writer::confirm`].
    pub async fn submit(&self, call: &Call) -> Result<Confirmed> {
        match self.send(call).await? {
            Sent::Broadcast { tx } => self.confirm(call, tx).await,
            Sent::AlreadySettled { reason } => Ok(Confirmed::AlreadySettled {
                tx: B256::ZERO,
                block: 0,
                reason,
            }),
        }
    }

    /// `requestCreation(units, coldkey, receiver, minSharesOut)` with `bond` wei; returns the
    /// request id from the receipt's `CreationRequested` event.
    pub async fn request_creation(
        &self,
        units: u32,
        coldkey: B256,
        receiver: Address,
        min_shares_out: U256,
        bond: U256,
    ) -> Result<(B256, Included)> {
        let data: Bytes = TAO20::requestCreationCall {
            units,
            coldkey,
            receiver,
            minSharesOut: min_shares_out,
        }
        .abi_encode()
        .into();
        let receipt = self.send_raw("requestCreation", data, bond).await?;
        let id = receipt
            .logs()
            .iter()
            .find_map(|log| {
                log.log_decode::<TAO20::CreationRequested>()
                    .ok()
                    .map(|l| l.inner.data.requestId)
            })
            .ok_or_else(|| {
                Error::decode("requestCreation receipt", "no CreationRequested event")
            })?;
        Ok((
            id,
            Included {
                tx: receipt.transaction_hash,
                block: receipt.block_number.unwrap_or_default(),
                gas_used: receipt.gas_used,
            },
        ))
    }

    /// `redeem(shares, coldkey, minAmounts, skip)`.
    pub async fn redeem(
        &self,
        shares: U256,
        coldkey: B256,
        min_amounts: Vec<U256>,
        skip: Vec<bool>,
    ) -> Result<Included> {
        let data: Bytes = TAO20::redeemCall {
            shares,
            coldkey,
            minAmounts: min_amounts,
            skip,
        }
        .abi_encode()
        .into();
        let r = self.send_raw("redeem", data, U256::ZERO).await?;
        Ok(Included {
            tx: r.transaction_hash,
            block: r.block_number.unwrap_or_default(),
            gas_used: r.gas_used,
        })
    }

    /// Simulates, sends and confirms a call the caller encoded itself (no settled outcome).
    async fn send_raw(
        &self,
        name: &str,
        data: Bytes,
        value: U256,
    ) -> Result<alloy::rpc::types::TransactionReceipt> {
        let builder = CallBuilder::new_raw(&self.provider, data)
            .to(self.contract)
            .from(self.from)
            .value(value);
        builder
            .call_raw()
            .await
            .map_err(|e| classify(name.to_string(), e))?;
        let pending = builder
            .send()
            .await
            .map_err(|e| classify(name.to_string(), e))?;
        let tx = *pending.tx_hash();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(r) = self
                .provider
                .get_transaction_receipt(tx)
                .await
                .map_err(|e| Error::rpc(format!("eth_getTransactionReceipt({tx})"), e))?
            {
                if !r.status() {
                    let block = r.block_number.unwrap_or_default();
                    let again = CallBuilder::new_raw(&self.provider, builder.calldata().clone())
                        .to(self.contract)
                        .from(self.from)
                        .value(value)
                        .block(alloy::eips::BlockId::number(block));
                    return Err(match again.call_raw().await {
                        Err(e) => classify(name.to_string(), e),
                        Ok(_) => Error::FailedWithoutReason {
                            call: name.to_string(),
                            tx,
                            block,
                        },
                    });
                }
                return Ok(r);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("{name} transaction {tx}"),
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}
