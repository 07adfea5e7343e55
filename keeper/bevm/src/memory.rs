//! A BEVM chain held in memory, for running the keeper's engine in-process: tests mine blocks
//! with the contract's events and the fund state they leave, reorganise them, prune them, or take
//! the endpoint down, and the engine reads it through the same [`Bevm`] trait as a node.
//!
//! It is a record of what the contract did, not the contract: a test states each block's events
//! and the state after them, as anvil would have shown them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use alloy::primitives::{keccak256, Bytes, B256};
use tao20_creation::eip712::CreationFile;

use crate::api::Bevm;
use crate::events::{ContractEvent, LoggedEvent};
use crate::reader::{FundSnapshot, SignerSet};
use crate::{Error, Result};

/// The contract's state after a block, as far as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryState {
    /// The fund (its `block` field is set on each read).
    pub fund: FundSnapshot,
    /// Published creation files by epoch.
    pub files: BTreeMap<u64, CreationFile>,
    /// `expireableAt` of each pending request.
    pub expireable: BTreeMap<B256, u64>,
}

#[derive(Debug, Clone)]
struct Block {
    hash: B256,
    events: Vec<LoggedEvent>,
    state: MemoryState,
}

#[derive(Debug)]
struct Chain {
    blocks: BTreeMap<u64, Block>,
    /// Bumped by each reorganisation, so re-mined blocks get new hashes.
    fork: u64,
    /// Blocks below this one are discarded (a pruned node).
    kept_from: u64,
    /// While set, every read fails as an unreachable endpoint does.
    down: Option<String>,
    /// The input of each transaction mined with [`MemoryBevm::mine_call`], and its block.
    inputs: BTreeMap<B256, (u64, Bytes)>,
}

impl Chain {
    fn head(&self) -> u64 {
        self.blocks.keys().next_back().copied().unwrap_or(0)
    }
}

/// An in-memory BEVM chain.
#[derive(Debug)]
pub struct MemoryBevm {
    chain: Mutex<Chain>,
}

fn hash_of(number: u64, fork: u64) -> B256 {
    keccak256([number.to_be_bytes(), fork.to_be_bytes()].concat())
}

impl MemoryBevm {
    /// A chain whose first block is `first`, with `state` after it and no events.
    pub fn new(first: u64, state: MemoryState) -> Self {
        let mut blocks = BTreeMap::new();
        blocks.insert(
            first,
            Block {
                hash: hash_of(first, 0),
                events: Vec::new(),
                state,
            },
        );
        Self {
            chain: Mutex::new(Chain {
                blocks,
                fork: 0,
                kept_from: 0,
                down: None,
                inputs: BTreeMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The newest block.
    pub fn head(&self) -> u64 {
        self.lock().head()
    }

    /// Mines the next block: `events` in order, and the state after them (`change` applied to
    /// the previous block's). Returns its number.
    pub fn mine(&self, events: Vec<ContractEvent>, change: impl FnOnce(&mut MemoryState)) -> u64 {
        let mut c = self.lock();
        let (number, mut state) = match c.blocks.iter().next_back() {
            Some((n, b)) => (n + 1, b.state.clone()),
            None => return 0,
        };
        change(&mut state);
        let hash = hash_of(number, c.fork);
        let events = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| LoggedEvent {
                block: number,
                block_hash: hash,
                tx_hash: keccak256([hash.as_slice(), &(i as u64).to_be_bytes()].concat()),
                log_index: i as u64,
                event,
            })
            .collect();
        c.blocks.insert(
            number,
            Block {
                hash,
                events,
                state,
            },
        );
        number
    }

    /// Mines the next block with one transaction whose input is `input` (a report call) and
    /// whose logs are `events`, as [`MemoryBevm::mine`] does. Returns its number.
    pub fn mine_call(
        &self,
        input: Bytes,
        events: Vec<ContractEvent>,
        change: impl FnOnce(&mut MemoryState),
    ) -> u64 {
        let number = self.mine(events, change);
        let mut c = self.lock();
        let Some(block) = c.blocks.get_mut(&number) else {
            return number;
        };
        let tx = keccak256([block.hash.as_slice(), input.as_ref()].concat());
        for e in &mut block.events {
            e.tx_hash = tx;
        }
        c.inputs.insert(tx, (number, input));
        number
    }

    /// Mines empty blocks up to `number`.
    pub fn mine_to(&self, number: u64) {
        while self.head() < number {
            self.mine(Vec::new(), |_| {});
        }
    }

    /// Drops blocks `from` and above: the next ones mined replace them with other hashes.
    pub fn reorg(&self, from: u64) {
        let mut c = self.lock();
        c.blocks.retain(|n, _| *n < from);
        c.fork += 1;
    }

    /// Discards the blocks below `number`, as a pruned node does.
    pub fn prune_below(&self, number: u64) {
        self.lock().kept_from = number;
    }

    /// Takes the endpoint down (`Some(reason)`) or brings it back (`None`).
    pub fn set_down(&self, reason: Option<&str>) {
        self.lock().down = reason.map(str::to_string);
    }

    fn read<T>(&self, what: &str, f: impl FnOnce(&Chain) -> Result<T>) -> Result<T> {
        let c = self.lock();
        if let Some(reason) = &c.down {
            return Err(Error::rpc_answer(what, reason.clone()));
        }
        f(&c)
    }

    fn state_at(c: &Chain, block: u64, what: &str) -> Result<MemoryState> {
        let head = c.head();
        if block < c.kept_from {
            return Err(Error::StateDiscarded {
                what: what.to_string(),
                block,
                head,
            });
        }
        if block > head {
            return Err(Error::rpc_answer(
                what,
                format!("header not found: block {block}"),
            ));
        }
        // A block before the chain's first is read as the first one's state.
        c.blocks
            .range(..=block)
            .next_back()
            .or_else(|| c.blocks.iter().next())
            .map(|(_, b)| b.state.clone())
            .ok_or_else(|| Error::rpc_answer(what, "empty chain"))
    }
}

impl Bevm for MemoryBevm {
    fn fund(&self, block: u64) -> impl Future<Output = Result<FundSnapshot>> + Send {
        let r = self.read("fund", |c| {
            let mut f = Self::state_at(c, block, "the fund")?.fund;
            f.block = block;
            Ok(f)
        });
        std::future::ready(r)
    }

    fn signer_set(&self, block: u64) -> impl Future<Output = Result<SignerSet>> + Send {
        let r = self.read("signers", |c| {
            Ok(Self::state_at(c, block, "the signer set")?.fund.signer_set)
        });
        std::future::ready(r)
    }

    fn creation_file(
        &self,
        epoch: u64,
        block: u64,
    ) -> impl Future<Output = Result<Option<CreationFile>>> + Send {
        let r = self.read("epoch", |c| {
            Ok(Self::state_at(c, block, "the creation file")?
                .files
                .get(&epoch)
                .cloned())
        });
        std::future::ready(r)
    }

    fn expireable_at(
        &self,
        request_id: B256,
        block: u64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send {
        let r = self.read("expireableAt", |c| {
            Ok(Self::state_at(c, block, "expireableAt")?
                .expireable
                .get(&request_id)
                .copied())
        });
        std::future::ready(r)
    }

    fn block_hash(&self, number: u64) -> impl Future<Output = Result<Option<B256>>> + Send {
        let r = self.read("eth_getBlockByNumber", |c| {
            if number < c.kept_from {
                return Ok(None);
            }
            Ok(c.blocks.get(&number).map(|b| b.hash))
        });
        std::future::ready(r)
    }

    fn kept_block_hash(
        &self,
        number: u64,
        what: &str,
    ) -> impl Future<Output = Result<Option<B256>>> + Send {
        let r = self.read("eth_getBlockByNumber", |c| {
            if number < c.kept_from {
                return Err(Error::StateDiscarded {
                    what: what.to_string(),
                    block: number,
                    head: c.head(),
                });
            }
            Ok(c.blocks.get(&number).map(|b| b.hash))
        });
        std::future::ready(r)
    }

    fn transaction_input(&self, tx: B256) -> impl Future<Output = Result<Option<Bytes>>> + Send {
        let r = self.read("eth_getTransactionByHash", |c| {
            Ok(match c.inputs.get(&tx) {
                // Gone with its block: reorganised away, or discarded by a pruned node.
                Some((n, input)) if *n >= c.kept_from && c.blocks.contains_key(n) => {
                    Some(input.clone())
                }
                _ => None,
            })
        });
        std::future::ready(r)
    }

    fn logs_of_kept_blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>>> + Send {
        let r = self.read("eth_getLogs", |c| {
            Ok(c.blocks
                .range(from..=to)
                .flat_map(|(_, b)| b.events.iter().cloned())
                .collect())
        });
        std::future::ready(r)
    }
}
