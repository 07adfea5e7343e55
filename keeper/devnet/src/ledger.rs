//! One stake ledger for both chains: the simulator's [`StakeLedger`] kept in the staking mock on
//! anvil, so a miner's `transfer_stake` in the simulator is stake the contract sees, and a
//! `moveStake`/`transferStake` by the contract is stake the simulator reports.
//!
//! - **One block number.** Anvil runs without automine. When the simulator opens block `n`
//!   ([`StakeLedger::advance`]), anvil mines its block `n`, executing the EVM transactions that
//!   waited; then the simulator's extrinsics of block `n` write their stake changes into the state
//!   of that same anvil block (`anvil_setStorageAt` edits the latest block's state in place). A
//!   block's state is thus "its EVM transactions, then its substrate extrinsics", and earlier
//!   blocks are never written again, so reads at past blocks (`eth_call` at the block's number)
//!   are stable, as on an archive node.
//! - **Reads** are `eth_call getStake(hotkey, coldkey, netuid)` at the block; a hotkey's total is
//!   one `eth_call` to the devnet's `StakeTotals` helper over every coldkey the ledger has seen
//!   (the simulator's own writes, the vault, and the coldkeys the fund's events name).
//! - **Savepoints** (`utility.batch_all`) are an undo log of the block's own writes: a rollback
//!   writes the old values back, so a failed batch leaves no trace on either side. (`evm_revert`
//!   would also do it, but would roll back whatever else happened in anvil since the snapshot.)
//! - **Prices and transfer toggles** of every subnet are written into the staking and Alpha mocks
//!   each block ([`StakeLedger::mirror`]), in the runtime's units (the Alpha mock answers wei).
//!
//! The simulator calls the ledger synchronously from its state machine; the JSON-RPC client runs
//! on a thread of its own with its own runtime, so the ledger works inside or outside tokio.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;

use alloy::eips::BlockId;
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use tao20_bevm::bindings::{IStaking, ALPHA_PRECOMPILE, STAKING_PRECOMPILE, TAO20};
use tao20_bevm::localnet::STAKE_TOTALS;
use tao20_chain::sim::{StakeKey, StakeLedger, SubnetMirror};
use tao20_chain::types::{AccountId, BlockNumber, Bytes32, NetUid};

alloy::sol! {
    function total(address staking, bytes32 hotkey, uint256 netuid, bytes32[] coldkeys) external view returns (uint256);
}

/// Storage slots the devnet writes (pinned by `test/DevnetLayout.t.sol`).
mod slots {
    use super::*;

    /// The stake of (hotkey, coldkey, netuid): keccak256 of the three words.
    pub fn stake(key: &StakeKey) -> B256 {
        let mut buf = [0u8; 96];
        buf[..32].copy_from_slice(&key.hotkey.0);
        buf[32..64].copy_from_slice(&key.coldkey.0);
        buf[94..].copy_from_slice(&key.netuid.to_be_bytes());
        keccak256(buf)
    }

    /// `mapping(uint256 => X)` at `slot`, entry `key`.
    pub fn mapping(key: u64, slot: u64) -> B256 {
        let mut buf = [0u8; 64];
        buf[24..32].copy_from_slice(&key.to_be_bytes());
        buf[56..64].copy_from_slice(&slot.to_be_bytes());
        keccak256(buf)
    }

    /// StakingMock: `subnets` (slot 0) and `flags` (slot 2); AlphaMock: `setBits` (slot 0) and
    /// `priceRao` (slot 1).
    pub const SUBNETS: u64 = 0;
    pub const FLAGS: u64 = 2;
    pub const ALPHA_SET_BITS: u64 = 0;
    pub const ALPHA_PRICE: u64 = 1;
}

type Reply<T> = mpsc::Sender<Result<T, String>>;

enum Request {
    Stake(StakeKey, u64, Reply<u64>),
    Total(AccountId, NetUid, Vec<B256>, u64, Reply<u64>),
    Storage(Address, B256, Reply<U256>),
    SetStorage(Address, B256, U256, Reply<()>),
    BlockNumber(Reply<u64>),
    Mine(Reply<u64>),
    FundColdkeys(Address, u64, Reply<Vec<B256>>),
}

fn rpc_err(what: &str, e: impl std::fmt::Display) -> String {
    format!("anvil {what}: {e}")
}

async fn handle(p: &DynProvider, req: Request) {
    match req {
        Request::Stake(key, at, reply) => {
            let r = IStaking::new(STAKING_PRECOMPILE, p)
                .getStake(
                    B256::from(key.hotkey.0),
                    B256::from(key.coldkey.0),
                    U256::from(key.netuid),
                )
                .block(BlockId::number(at))
                .call()
                .await
                .map_err(|e| rpc_err("getStake", e))
                .and_then(|v| u64::try_from(v).map_err(|_| format!("stake {v} exceeds u64")));
            let _ = reply.send(r);
        }
        Request::Total(hotkey, netuid, coldkeys, at, reply) => {
            let data: Bytes = totalCall {
                staking: STAKING_PRECOMPILE,
                hotkey: B256::from(hotkey.0),
                netuid: U256::from(netuid),
                coldkeys,
            }
            .abi_encode()
            .into();
            let r = p
                .call(
                    TransactionRequest::default()
                        .to(STAKE_TOTALS)
                        .input(data.into()),
                )
                .block(BlockId::number(at))
                .await
                .map_err(|e| rpc_err("StakeTotals.total", e))
                .and_then(|out| {
                    totalCall::abi_decode_returns(&out).map_err(|e| rpc_err("StakeTotals.total", e))
                })
                .and_then(|v| u64::try_from(v).map_err(|_| format!("total {v} exceeds u64")));
            let _ = reply.send(r);
        }
        Request::Storage(addr, slot, reply) => {
            let r = p
                .get_storage_at(addr, slot.into())
                .await
                .map_err(|e| rpc_err("eth_getStorageAt", e));
            let _ = reply.send(r);
        }
        Request::SetStorage(addr, slot, value, reply) => {
            let r = p
                .anvil_set_storage_at(addr, slot.into(), B256::from(value))
                .await
                .map(|_| ())
                .map_err(|e| rpc_err("anvil_setStorageAt", e));
            let _ = reply.send(r);
        }
        Request::BlockNumber(reply) => {
            let r = p
                .get_block_number()
                .await
                .map_err(|e| rpc_err("eth_blockNumber", e));
            let _ = reply.send(r);
        }
        Request::Mine(reply) => {
            let r = async {
                p.evm_mine(None).await.map_err(|e| rpc_err("evm_mine", e))?;
                p.get_block_number()
                    .await
                    .map_err(|e| rpc_err("eth_blockNumber", e))
            }
            .await;
            let _ = reply.send(r);
        }
        Request::FundColdkeys(tao20, block, reply) => {
            let filter = Filter::new()
                .address(tao20)
                .from_block(block)
                .to_block(block);
            let r = p
                .get_logs(&filter)
                .await
                .map_err(|e| rpc_err("eth_getLogs", e))
                .map(|logs| {
                    let mut out = Vec::new();
                    for log in logs {
                        let topic = log.topics().first().copied();
                        // Redeemed, ClaimBooked, Claimed and Refunded index the coldkey as
                        // their second topic.
                        let coldkey_events = [
                            TAO20::Redeemed::SIGNATURE_HASH,
                            TAO20::ClaimBooked::SIGNATURE_HASH,
                            TAO20::Claimed::SIGNATURE_HASH,
                            TAO20::Refunded::SIGNATURE_HASH,
                        ];
                        if topic.is_some_and(|t| coldkey_events.contains(&t)) {
                            if let Some(ck) = log.topics().get(2) {
                                out.push(*ck);
                            }
                        }
                    }
                    out
                });
            let _ = reply.send(r);
        }
    }
}

/// The simulator's stake ledger, in the staking mock on anvil.
#[derive(Debug)]
pub struct AnvilLedger {
    tx: mpsc::Sender<Request>,
    block: BlockNumber,
    tao20: Option<Address>,
    coldkeys: BTreeSet<B256>,
    undo: Option<Vec<(B256, U256)>>,
    mirrored: BTreeMap<NetUid, (u64, bool)>,
    flags: BTreeMap<u64, U256>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Request")
    }
}

fn err(e: String) -> tao20_chain::Error {
    tao20_chain::Error::Connection {
        endpoint: "anvil (devnet ledger)".into(),
        reason: e,
    }
}

impl AnvilLedger {
    /// A ledger on the anvil at `rpc`, whose automine must be off; `tao20` and `vault` (when the
    /// fund is deployed) let it follow the coldkeys the fund moves stake to.
    pub fn connect(
        rpc: &str,
        tao20: Option<Address>,
        vault: Option<B256>,
    ) -> tao20_chain::Result<Self> {
        let provider = tao20_bevm::rpc::connect(rpc).map_err(|e| err(e.to_string()))?;
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("devnet-ledger".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                while let Ok(req) = rx.recv() {
                    rt.block_on(handle(&provider, req));
                }
            })
            .map_err(|e| err(e.to_string()))?;
        let mut ledger = AnvilLedger {
            tx,
            block: 0,
            tao20,
            coldkeys: vault.into_iter().collect(),
            undo: None,
            mirrored: BTreeMap::new(),
            flags: BTreeMap::new(),
        };
        ledger.block = ledger.ask(Request::BlockNumber)?;
        Ok(ledger)
    }

    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> tao20_chain::Result<T> {
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(make(reply))
            .map_err(|_| err("the RPC thread stopped".into()))?;
        rx.recv()
            .map_err(|_| err("the RPC thread stopped".into()))?
            .map_err(err)
    }

    fn write(&mut self, addr: Address, slot: B256, value: U256) -> tao20_chain::Result<()> {
        if self.undo.is_some() {
            let old = self.ask(|r| Request::Storage(addr, slot, r))?;
            if let Some(undo) = &mut self.undo {
                undo.push((slot, old));
            }
        }
        self.ask(|r| Request::SetStorage(addr, slot, value, r))
    }

    fn set_stake(&mut self, key: &StakeKey, value: u64) -> tao20_chain::Result<()> {
        self.coldkeys.insert(B256::from(key.coldkey.0));
        self.write(STAKING_PRECOMPILE, slots::stake(key), U256::from(value))
    }
}

impl StakeLedger for AnvilLedger {
    fn stake(&self, at: BlockNumber, key: &StakeKey) -> tao20_chain::Result<u64> {
        let key = *key;
        self.ask(|r| Request::Stake(key, at.min(self.block), r))
    }

    fn hotkey_total(
        &self,
        at: BlockNumber,
        hotkey: &AccountId,
        netuid: NetUid,
    ) -> tao20_chain::Result<u64> {
        let coldkeys: Vec<B256> = self.coldkeys.iter().copied().collect();
        let hotkey = *hotkey;
        self.ask(|r| Request::Total(hotkey, netuid, coldkeys, at.min(self.block), r))
    }

    fn credit(&mut self, key: &StakeKey, amount: u64) -> tao20_chain::Result<()> {
        let old = self.stake(self.block, key)?;
        let new = old.checked_add(amount).ok_or_else(|| {
            tao20_chain::Error::invalid("stake credit", format!("{old} + {amount} overflows"))
        })?;
        self.set_stake(key, new)
    }

    fn debit(&mut self, key: &StakeKey, amount: u64) -> tao20_chain::Result<()> {
        let old = self.stake(self.block, key)?;
        let new = old.checked_sub(amount).ok_or_else(|| {
            tao20_chain::Error::invalid("stake debit", format!("{amount} exceeds the {old} held"))
        })?;
        self.set_stake(key, new)
    }

    fn begin(&mut self) -> tao20_chain::Result<()> {
        if self.undo.is_some() {
            return Err(tao20_chain::Error::invalid(
                "ledger savepoint",
                "already open",
            ));
        }
        self.undo = Some(Vec::new());
        Ok(())
    }

    fn commit(&mut self) -> tao20_chain::Result<()> {
        self.undo = None;
        Ok(())
    }

    fn rollback(&mut self) -> tao20_chain::Result<()> {
        let undo = self
            .undo
            .take()
            .ok_or_else(|| tao20_chain::Error::invalid("ledger rollback", "no savepoint open"))?;
        for (slot, old) in undo.into_iter().rev() {
            self.ask(|r| Request::SetStorage(STAKING_PRECOMPILE, slot, old, r))?;
        }
        Ok(())
    }

    fn advance(&mut self, block: BlockNumber) -> tao20_chain::Result<()> {
        let mut head = self.ask(Request::BlockNumber)?;
        if head >= block {
            return Err(err(format!(
                "anvil is at block {head}, the simulator opens {block}: something else mines \
                 anvil (is automine off?)"
            )));
        }
        while head < block {
            head = self.ask(Request::Mine)?;
        }
        self.block = block;
        if let Some(tao20) = self.tao20 {
            let found = self.ask(|r| Request::FundColdkeys(tao20, block, r))?;
            self.coldkeys.extend(found);
        }
        Ok(())
    }

    fn height(&self) -> BlockNumber {
        self.block
    }

    fn mirror(&mut self, _block: BlockNumber, subnets: &[SubnetMirror]) -> tao20_chain::Result<()> {
        for s in subnets {
            let before = self.mirrored.get(&s.netuid).copied();
            if before == Some((s.price_rao, s.transfers_enabled)) {
                continue;
            }
            let n = u64::from(s.netuid);
            let disabled = U256::from(u8::from(!s.transfers_enabled));
            let packed = U256::from(s.price_rao) | (disabled << 128);
            self.ask(|r| {
                Request::SetStorage(
                    STAKING_PRECOMPILE,
                    slots::mapping(n, slots::SUBNETS),
                    packed,
                    r,
                )
            })?;
            let price_slot = slots::mapping(n, slots::ALPHA_PRICE);
            let price = U256::from(s.price_rao);
            // Prices move at every block; the flag bits only when a subnet is first mirrored or
            // its transfers toggle. Each write is an anvil round trip made while the simulator
            // opens the block, so the common case writes the two price words only.
            if before.is_some_and(|(_, transfers)| transfers == s.transfers_enabled) {
                self.ask(|r| Request::SetStorage(ALPHA_PRECOMPILE, price_slot, price, r))?;
                self.mirrored
                    .insert(s.netuid, (s.price_rao, s.transfers_enabled));
                continue;
            }
            // Two flag bits per subnet: bit 0 transfers disabled, bit 1 a price of its own.
            let word_index = n / 128;
            let shift = 2 * (n % 128);
            let flags_slot = slots::mapping(word_index, slots::FLAGS);
            let current = match self.flags.get(&word_index) {
                Some(w) => *w,
                None => self.ask(|r| Request::Storage(STAKING_PRECOMPILE, flags_slot, r))?,
            };
            let w =
                (current & !(U256::from(3u8) << shift)) | ((disabled | U256::from(2u8)) << shift);
            self.flags.insert(word_index, w);
            self.ask(|r| Request::SetStorage(STAKING_PRECOMPILE, flags_slot, w, r))?;
            let bits_index = n / 256;
            let bit = U256::from(1u8) << (n % 256);
            let slot = slots::mapping(bits_index, slots::ALPHA_SET_BITS);
            let bits = self.ask(|r| Request::Storage(ALPHA_PRECOMPILE, slot, r))? | bit;
            self.ask(|r| Request::SetStorage(ALPHA_PRECOMPILE, slot, bits, r))?;
            self.ask(|r| Request::SetStorage(ALPHA_PRECOMPILE, price_slot, price, r))?;
            self.mirrored
                .insert(s.netuid, (s.price_rao, s.transfers_enabled));
        }
        Ok(())
    }
}

/// An sr25519 account id as the EVM's `bytes32`.
pub fn b256(a: &Bytes32) -> B256 {
    B256::from(a.0)
}
