//! The BEVM reads a keeper's block loop makes, as a trait: [`crate::Reader`] answers them from a
//! node, [`crate::memory::MemoryBevm`] from a chain held in memory, so the engine runs in-process
//! in tests, block by block, without anvil.
//!
//! Every read names its block; an implementation answers as the chain was at that block.

use std::future::Future;

use alloy::primitives::{Bytes, B256};
use tao20_creation::eip712::CreationFile;

use crate::events::LoggedEvent;
use crate::reader::{FundSnapshot, SignerSet};
use crate::Result;

/// What the keeper's engine reads from BEVM.
pub trait Bevm: Send + Sync {
    /// The fund at `block`.
    fn fund(&self, block: u64) -> impl Future<Output = Result<FundSnapshot>> + Send;

    /// The signer set at `block`.
    fn signer_set(&self, block: u64) -> impl Future<Output = Result<SignerSet>> + Send;

    /// The creation file of `epoch` as published, read at `block`; `None` before publication.
    fn creation_file(
        &self,
        epoch: u64,
        block: u64,
    ) -> impl Future<Output = Result<Option<CreationFile>>> + Send;

    /// The first block at which `expire(request_id)` succeeds, read at `block` (`None` while
    /// paused or when the request is not pending).
    fn expireable_at(
        &self,
        request_id: B256,
        block: u64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// The hash of block `number`, `None` past the head.
    fn block_hash(&self, number: u64) -> impl Future<Output = Result<Option<B256>>> + Send;

    /// [`Bevm::block_hash`], with [`crate::Error::StateDiscarded`] for a block at or below the
    /// head the node no longer keeps.
    fn kept_block_hash(
        &self,
        number: u64,
        what: &str,
    ) -> impl Future<Output = Result<Option<B256>>> + Send;

    /// The input of transaction `tx`; `None` when the node does not have it.
    fn transaction_input(&self, tx: B256) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// The contract's events in blocks `[from, to]` (`from` known to be kept), in chain order.
    fn logs_of_kept_blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>>> + Send;
}

impl Bevm for crate::Reader {
    fn fund(&self, block: u64) -> impl Future<Output = Result<FundSnapshot>> + Send {
        crate::Reader::fund(self, block)
    }

    fn signer_set(&self, block: u64) -> impl Future<Output = Result<SignerSet>> + Send {
        crate::Reader::signer_set(self, block)
    }

    fn creation_file(
        &self,
        epoch: u64,
        block: u64,
    ) -> impl Future<Output = Result<Option<CreationFile>>> + Send {
        crate::Reader::creation_file(self, epoch, block)
    }

    fn expireable_at(
        &self,
        request_id: B256,
        block: u64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send {
        crate::Reader::expireable_at(self, request_id, block)
    }

    fn block_hash(&self, number: u64) -> impl Future<Output = Result<Option<B256>>> + Send {
        crate::Reader::block_hash(self, number)
    }

    fn kept_block_hash(
        &self,
        number: u64,
        what: &str,
    ) -> impl Future<Output = Result<Option<B256>>> + Send {
        crate::Reader::kept_block_hash(self, number, what)
    }

    fn transaction_input(&self, tx: B256) -> impl Future<Output = Result<Option<Bytes>>> + Send {
        crate::Reader::transaction_input(self, tx)
    }

    fn logs_of_kept_blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>>> + Send {
        crate::Reader::logs_of_kept_blocks(self, from, to)
    }
}

impl<T: Bevm + ?Sized> Bevm for std::sync::Arc<T> {
    fn fund(&self, block: u64) -> impl Future<Output = Result<FundSnapshot>> + Send {
        (**self).fund(block)
    }

    fn signer_set(&self, block: u64) -> impl Future<Output = Result<SignerSet>> + Send {
        (**self).signer_set(block)
    }

    fn creation_file(
        &self,
        epoch: u64,
        block: u64,
    ) -> impl Future<Output = Result<Option<CreationFile>>> + Send {
        (**self).creation_file(epoch, block)
    }

    fn expireable_at(
        &self,
        request_id: B256,
        block: u64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send {
        (**self).expireable_at(request_id, block)
    }

    fn block_hash(&self, number: u64) -> impl Future<Output = Result<Option<B256>>> + Send {
        (**self).block_hash(number)
    }

    fn kept_block_hash(
        &self,
        number: u64,
        what: &str,
    ) -> impl Future<Output = Result<Option<B256>>> + Send {
        (**self).kept_block_hash(number, what)
    }

    fn transaction_input(&self, tx: B256) -> impl Future<Output = Result<Option<Bytes>>> + Send {
        (**self).transaction_input(tx)
    }

    fn logs_of_kept_blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>>> + Send {
        (**self).logs_of_kept_blocks(from, to)
    }
}
