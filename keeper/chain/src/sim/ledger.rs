//! The simulator's stake ledger: (coldkey, hotkey, netuid) -> alpha, readable at past blocks,
//! with savepoints for `utility.batch_all` atomicity.
//!
//! The trait exists so the end-to-end demo can keep *one* ledger for both halves: an implementation
//! backed by the staking mock on anvil (the contract's `getStake` precompile mock) answers the
//! simulator and the contracts from the same storage, at one block height. How it maps:
//! - [`StakeLedger::stake`] at block `b` -> `eth_call getStake(hotkey, coldkey, netuid)` with block
//!   tag `b` (anvil keeps history, so past reads work like a substrate archive node).
//! - [`StakeLedger::credit`]/[`StakeLedger::debit`] -> a privileged setter on the mock (or
//!   `anvil_setStorageAt` on its mapping slot) in the current block.
//! - [`StakeLedger::begin`]/[`StakeLedger::commit`]/[`StakeLedger::rollback`] -> `evm_snapshot` /
//!   drop / `evm_revert`, so a failed batch leaves no trace on either side.
//! - [`StakeLedger::advance`] -> `anvil_mine` up to the simulator's height, so BEVM and the
//!   simulated substrate chain share block numbers as on the real chain.
//!
//! The simulator calls the ledger synchronously from its state machine; an anvil-backed ledger
//! runs its JSON-RPC client on a dedicated thread (or a blocking client) behind this trait.

use std::collections::BTreeMap;

use crate::types::{AccountId, BlockNumber, NetUid};
use crate::{Error, Result};

/// One stake position's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StakeKey {
    /// Owner.
    pub coldkey: AccountId,
    /// Hotkey the stake is on.
    pub hotkey: AccountId,
    /// Subnet.
    pub netuid: NetUid,
}

/// Where the simulator keeps stake.
pub trait StakeLedger: Send {
    /// Alpha of a position at the end of block `at`.
    fn stake(&self, at: BlockNumber, key: &StakeKey) -> Result<u64>;
    /// Total alpha on `hotkey` in `netuid` at the end of block `at`, all coldkeys together.
    fn hotkey_total(&self, at: BlockNumber, hotkey: &AccountId, netuid: NetUid) -> Result<u64>;
    /// Adds alpha to a position in the current block.
    fn credit(&mut self, key: &StakeKey, amount: u64) -> Result<()>;
    /// Removes alpha from a position in the current block; fails if it holds less.
    fn debit(&mut self, key: &StakeKey, amount: u64) -> Result<()>;
    /// Opens a savepoint (batches do not nest).
    fn begin(&mut self) -> Result<()>;
    /// Keeps everything since the savepoint.
    fn commit(&mut self) -> Result<()>;
    /// Undoes everything since the savepoint.
    fn rollback(&mut self) -> Result<()>;
    /// Moves to a new block height; later writes belong to it.
    fn advance(&mut self, block: BlockNumber) -> Result<()>;
    /// The height the ledger is at (a ledger shared with another chain may start above 0).
    fn height(&self) -> BlockNumber {
        0
    }
    /// Each subnet's state other ledger users need (the EVM's precompile mocks answer prices and
    /// transfer toggles), after the block's price moves and before its extrinsics.
    fn mirror(&mut self, _block: BlockNumber, _subnets: &[SubnetMirror]) -> Result<()> {
        Ok(())
    }
}

/// What a shared ledger mirrors of a subnet each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubnetMirror {
    /// The subnet.
    pub netuid: NetUid,
    /// `current_alpha_price`: rao of TAO per alpha.
    pub price_rao: u64,
    /// Whether stake transfers are allowed.
    pub transfers_enabled: bool,
}

/// A value's history: `(block, value)` pairs, ascending.
type History = Vec<(BlockNumber, u64)>;

fn value_at(history: Option<&History>, at: BlockNumber) -> u64 {
    let Some(h) = history else { return 0 };
    let idx = h.partition_point(|(b, _)| *b <= at);
    idx.checked_sub(1)
        .and_then(|i| h.get(i))
        .map(|(_, v)| *v)
        .unwrap_or(0)
}

fn write(history: &mut History, block: BlockNumber, value: u64) {
    match history.last_mut() {
        Some((b, v)) if *b == block => *v = value,
        _ => history.push((block, value)),
    }
}

#[derive(Debug, Clone, Default)]
struct Tables {
    positions: BTreeMap<StakeKey, History>,
    totals: BTreeMap<(AccountId, NetUid), History>,
}

/// The in-memory ledger: full history, so reads at any past block work.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    block: BlockNumber,
    tables: Tables,
    savepoint: Option<Tables>,
}

impl MemoryLedger {
    /// An empty ledger at block 0.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, key: &StakeKey, value: u64, old: u64) -> Result<()> {
        let block = self.block;
        write(self.tables.positions.entry(*key).or_default(), block, value);
        let total = self
            .tables
            .totals
            .entry((key.hotkey, key.netuid))
            .or_default();
        let current = value_at(Some(total), block);
        let next = current
            .checked_sub(old)
            .and_then(|t| t.checked_add(value))
            .ok_or_else(|| Error::invalid("stake total", "overflow"))?;
        write(total, block, next);
        Ok(())
    }
}

impl StakeLedger for MemoryLedger {
    fn stake(&self, at: BlockNumber, key: &StakeKey) -> Result<u64> {
        Ok(value_at(self.tables.positions.get(key), at))
    }

    fn hotkey_total(&self, at: BlockNumber, hotkey: &AccountId, netuid: NetUid) -> Result<u64> {
        Ok(value_at(self.tables.totals.get(&(*hotkey, netuid)), at))
    }

    fn credit(&mut self, key: &StakeKey, amount: u64) -> Result<()> {
        let old = self.stake(self.block, key)?;
        let new = old
            .checked_add(amount)
            .ok_or_else(|| Error::invalid("stake credit", format!("{old} + {amount} overflows")))?;
        self.set(key, new, old)
    }

    fn debit(&mut self, key: &StakeKey, amount: u64) -> Result<()> {
        let old = self.stake(self.block, key)?;
        let new = old.checked_sub(amount).ok_or_else(|| {
            Error::invalid("stake debit", format!("{amount} exceeds the {old} held"))
        })?;
        self.set(key, new, old)
    }

    fn begin(&mut self) -> Result<()> {
        if self.savepoint.is_some() {
            return Err(Error::invalid("ledger savepoint", "already open"));
        }
        self.savepoint = Some(self.tables.clone());
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.savepoint = None;
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        let saved = self
            .savepoint
            .take()
            .ok_or_else(|| Error::invalid("ledger rollback", "no savepoint open"))?;
        self.tables = saved;
        Ok(())
    }

    fn advance(&mut self, block: BlockNumber) -> Result<()> {
        if block < self.block {
            return Err(Error::invalid(
                "ledger height",
                format!("{block} is below the current {}", self.block),
            ));
        }
        self.block = block;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Bytes32;

    fn key(c: u8, h: u8, n: u16) -> StakeKey {
        StakeKey {
            coldkey: Bytes32([c; 32]),
            hotkey: Bytes32([h; 32]),
            netuid: n,
        }
    }

    #[test]
    fn reads_at_past_blocks_see_the_value_of_that_block() {
        let mut l = MemoryLedger::new();
        l.advance(5).unwrap();
        l.credit(&key(1, 2, 3), 100).unwrap();
        l.advance(8).unwrap();
        l.debit(&key(1, 2, 3), 30).unwrap();
        l.credit(&key(9, 2, 3), 5).unwrap();
        assert_eq!(l.stake(4, &key(1, 2, 3)).unwrap(), 0);
        assert_eq!(l.stake(5, &key(1, 2, 3)).unwrap(), 100);
        assert_eq!(l.stake(7, &key(1, 2, 3)).unwrap(), 100);
        assert_eq!(l.stake(8, &key(1, 2, 3)).unwrap(), 70);
        assert_eq!(l.hotkey_total(7, &Bytes32([2; 32]), 3).unwrap(), 100);
        assert_eq!(l.hotkey_total(8, &Bytes32([2; 32]), 3).unwrap(), 75);
        assert!(l.debit(&key(1, 2, 3), 71).is_err());
        assert!(l.advance(7).is_err());
    }

    #[test]
    fn rollback_restores_the_savepoint() {
        let mut l = MemoryLedger::new();
        l.credit(&key(1, 2, 3), 10).unwrap();
        l.begin().unwrap();
        assert!(l.begin().is_err());
        l.debit(&key(1, 2, 3), 10).unwrap();
        l.credit(&key(4, 2, 3), 10).unwrap();
        l.rollback().unwrap();
        assert_eq!(l.stake(0, &key(1, 2, 3)).unwrap(), 10);
        assert_eq!(l.stake(0, &key(4, 2, 3)).unwrap(), 0);
        assert!(l.rollback().is_err());
    }
}
