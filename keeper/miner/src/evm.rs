//! The miner's EVM account: transactions are simulated, then signed locally and recorded (hash,
//! nonce, raw bytes) *before* they are broadcast, so a restarted miner can tell whether a
//! transaction it may have sent landed, is still pending, or must be broadcast again: the same
//! bytes, never a second transaction for one step.

use std::time::Duration;

use alloy::consensus::TxEnvelope;
use alloy::contract::CallBuilder;
use alloy::eips::eip2718::Encodable2718;
use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolInterface;
use serde::{Deserialize, Serialize};
use tao20_bevm::bindings::TAO20::TAO20Errors;

use crate::{Error, Result};

/// Gas limits are the node's estimate plus this many percent.
const GAS_MARGIN_PERCENT: u64 = 25;

/// A signed transaction, recorded before it is broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedTx {
    /// What it is for (`requestCreation`, `claimBond`, ...).
    pub purpose: String,
    /// Its hash.
    pub hash: B256,
    /// Its nonce.
    pub nonce: u64,
    /// The signed EIP-2718 bytes.
    pub raw: Bytes,
}

/// A mined transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxOutcome {
    /// Its hash.
    pub hash: B256,
    /// Its block.
    pub block: u64,
    /// Whether it succeeded.
    pub success: bool,
    /// Gas used.
    pub gas_used: u64,
    /// `gas_used x effective gas price`, wei.
    pub cost_wei: U256,
}

/// Where a recorded transaction stands.
#[derive(Debug, Clone)]
pub enum TxState {
    /// Mined, with its receipt.
    Mined(Box<(TxOutcome, TransactionReceipt)>),
    /// The node knows it but has not mined it yet.
    Pending,
    /// The node does not know it and its nonce is unused: broadcast it (again).
    Unknown,
    /// The node does not know it and its nonce was used by another transaction.
    Replaced,
}

/// Where an account's nonce was taken, as far as the node can show.
enum NonceTaken {
    /// In this block, whose state (and the one before) the node keeps.
    In(u64),
    /// At or before `block`, the oldest block whose state the node keeps.
    AtOrBefore {
        /// The oldest block the node keeps.
        block: u64,
        /// Its head.
        head: u64,
    },
}

/// Whether a failed request was the node's answer (a JSON-RPC error: on a pruned node, a read of
/// state it discarded) rather than the transport's.
fn refused<E>(e: &alloy::transports::RpcError<E>) -> bool {
    matches!(e, alloy::transports::RpcError::ErrorResp(_))
}

/// Decodes revert data as the fund's errors, else as hex.
pub fn revert_reason(data: &Bytes) -> String {
    match TAO20Errors::abi_decode(data) {
        Ok(e) => format!("{e:?}"),
        Err(_) => format!("revert data {data}"),
    }
}

/// The miner's EVM account.
#[derive(Debug, Clone)]
pub struct EvmAccount {
    provider: DynProvider,
    wallet: EthereumWallet,
    address: Address,
    chain_id: u64,
    poll: Duration,
}

impl EvmAccount {
    /// The account of `signer` on the node at `rpc`.
    pub async fn connect(rpc: &str, signer: PrivateKeySigner) -> Result<Self> {
        let provider = tao20_bevm::rpc::connect(rpc)?;
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| Error::rpc("eth_chainId", e))?;
        Ok(Self {
            provider,
            address: signer.address(),
            wallet: EthereumWallet::from(signer),
            chain_id,
            poll: Duration::from_millis(100),
        })
    }

    /// Polls for receipts this often.
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The read provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Native balance (wei) at `block`.
    pub async fn balance(&self, block: u64) -> Result<U256> {
        self.provider
            .get_balance(self.address)
            .block_id(BlockId::number(block))
            .await
            .map_err(|e| Error::rpc(format!("eth_getBalance({}) at {block}", self.address), e))
    }

    /// The node's gas price (wei).
    pub async fn gas_price(&self) -> Result<u128> {
        self.provider
            .get_gas_price()
            .await
            .map_err(|e| Error::rpc("eth_gasPrice", e))
    }

    /// Simulates a call at the latest block; a revert is decoded.
    pub async fn simulate(
        &self,
        name: &str,
        to: Address,
        data: &Bytes,
        value: U256,
    ) -> Result<Bytes> {
        CallBuilder::new_raw(&self.provider, data.clone())
            .to(to)
            .from(self.address)
            .value(value)
            .call_raw()
            .await
            .map_err(|e| match e.as_revert_data() {
                Some(d) => Error::Reverted {
                    call: name.to_string(),
                    reason: revert_reason(&d),
                },
                None => Error::rpc(format!("eth_call {name}"), e),
            })
    }

    /// Simulates, then signs (the next nonce, the estimate plus a margin, EIP-1559 fees).
    pub async fn sign(
        &self,
        purpose: &str,
        to: Address,
        data: Bytes,
        value: U256,
    ) -> Result<SignedTx> {
        self.simulate(purpose, to, &data, value).await?;
        let nonce = self
            .provider
            .get_transaction_count(self.address)
            .pending()
            .await
            .map_err(|e| Error::rpc("eth_getTransactionCount", e))?;
        let request = TransactionRequest::default()
            .with_from(self.address)
            .with_to(to)
            .with_input(data)
            .with_value(value)
            .with_nonce(nonce)
            .with_chain_id(self.chain_id);
        let gas = self
            .provider
            .estimate_gas(request.clone())
            .await
            .map_err(
                |e| match e.as_error_resp().and_then(|r| r.as_revert_data()) {
                    Some(d) => Error::Reverted {
                        call: purpose.to_string(),
                        reason: revert_reason(&d),
                    },
                    None => Error::rpc(format!("eth_estimateGas {purpose}"), e),
                },
            )?;
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| Error::rpc("fee estimate", e))?;
        let request = request
            .with_gas_limit(gas.saturating_add(gas * GAS_MARGIN_PERCENT / 100))
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let envelope: TxEnvelope = request
            .build(&self.wallet)
            .await
            .map_err(|e| Error::Key(format!("signing {purpose}: {e}")))?;
        Ok(SignedTx {
            purpose: purpose.to_string(),
            hash: *envelope.tx_hash(),
            nonce,
            raw: envelope.encoded_2718().into(),
        })
    }

    /// Broadcasts a signed transaction; a node that already has it is not an error.
    pub async fn broadcast(&self, tx: &SignedTx) -> Result<()> {
        match self.provider.send_raw_transaction(&tx.raw).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = e.to_string().to_lowercase();
                if text.contains("already known") || text.contains("already imported") {
                    Ok(())
                } else {
                    Err(Error::rpc(
                        format!("broadcast {} {}", tx.purpose, tx.hash),
                        e,
                    ))
                }
            }
        }
    }

    /// Where a recorded transaction stands. A transaction with no receipt whose nonce was taken
    /// before the oldest block a pruned node keeps cannot be told mined from replaced there:
    /// that is [`tao20_bevm::Error::StateDiscarded`], never [`TxState::Replaced`].
    pub async fn state(&self, tx: &SignedTx) -> Result<TxState> {
        let receipt = self
            .provider
            .get_transaction_receipt(tx.hash)
            .await
            .map_err(|e| Error::rpc(format!("eth_getTransactionReceipt({})", tx.hash), e))?;
        if let Some(r) = receipt {
            let outcome = TxOutcome {
                hash: tx.hash,
                block: r.block_number.unwrap_or_default(),
                success: r.status(),
                gas_used: r.gas_used,
                cost_wei: U256::from(r.gas_used) * U256::from(r.effective_gas_price),
            };
            return Ok(TxState::Mined(Box::new((outcome, r))));
        }
        let known = self
            .provider
            .get_transaction_by_hash(tx.hash)
            .await
            .map_err(|e| Error::rpc(format!("eth_getTransactionByHash({})", tx.hash), e))?;
        if known.is_some() {
            return Ok(TxState::Pending);
        }
        let used = self
            .provider
            .get_transaction_count(self.address)
            .latest()
            .await
            .map_err(|e| Error::rpc("eth_getTransactionCount", e))?;
        if used <= tx.nonce {
            return Ok(TxState::Unknown);
        }
        // No receipt and the nonce is taken: replaced only if the node can show the block that
        // took it, for then it would have this transaction's receipt had this one been mined. A
        // pruned node forgets receipts with the blocks it discards: a transaction mined before
        // its oldest block looks exactly like a replaced one, and calling it replaced would have
        // the miner redo (and pay for) a step that is done.
        match self.nonce_taken(tx.nonce).await? {
            NonceTaken::In(block) => {
                tracing::debug!(target: "miner::evm", tx = %tx.hash, nonce = tx.nonce, block,
                    "no receipt; its nonce was taken by another transaction");
                Ok(TxState::Replaced)
            }
            NonceTaken::AtOrBefore { block, head } => Err(tao20_bevm::Error::StateDiscarded {
                what: format!(
                    "telling whether {} {} was mined (the node has no receipt for it, and its \
                     nonce {} was taken at or before its oldest block)",
                    tx.purpose, tx.hash, tx.nonce
                ),
                block: block.saturating_sub(1),
                head,
            }
            .into()),
        }
    }

    /// Where this account's nonce went past `nonce`: a binary search of its transaction count
    /// over the blocks, a block the node refuses to read counting as one before its oldest (a
    /// pruned node keeps a suffix of the chain).
    async fn nonce_taken(&self, nonce: u64) -> Result<NonceTaken> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))?;
        // Some(count) when the node keeps the block, None when it refuses it.
        let count_at = |b: u64| async move {
            match self
                .provider
                .get_transaction_count(self.address)
                .block_id(BlockId::number(b))
                .await
            {
                Ok(c) => Ok(Some(c)),
                Err(e) if refused(&e) => Ok(None),
                Err(e) => Err(Error::rpc(
                    format!("eth_getTransactionCount at block {b}"),
                    e,
                )),
            }
        };
        // Invariant: the nonce is taken at `hi`; below `lo` it is free or the block is not kept.
        let (mut lo, mut hi) = (0u64, head);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match count_at(mid).await? {
                Some(c) if c > nonce => hi = mid,
                _ => lo = mid + 1,
            }
        }
        if hi == 0 {
            return Ok(NonceTaken::In(0));
        }
        Ok(match count_at(hi - 1).await? {
            Some(c) if c <= nonce => NonceTaken::In(hi),
            _ => NonceTaken::AtOrBefore { block: hi, head },
        })
    }

    /// Waits until `tx` is mined (broadcasting it again whenever the node forgot it and its nonce
    /// is still free), at most `timeout`.
    pub async fn confirm(
        &self,
        tx: &SignedTx,
        timeout: Duration,
    ) -> Result<(TxOutcome, TransactionReceipt)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.state(tx).await? {
                TxState::Mined(m) => return Ok(*m),
                TxState::Pending => {}
                TxState::Unknown => self.broadcast(tx).await?,
                TxState::Replaced => {
                    return Err(Error::Invalid(format!(
                        "{} {}: its nonce {} was used by another transaction",
                        tx.purpose, tx.hash, tx.nonce
                    )))
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "{} transaction {}",
                    tx.purpose, tx.hash
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}
