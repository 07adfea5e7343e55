//! Transactions as an unattended sender needs them: each attempt is built and signed here (nonce,
//! gas, fees explicit), so the caller can persist it — raw bytes and hash — *before* it is
//! broadcast, re-broadcast it after a restart, read its receipt back, and replace it at the same
//! nonce with a higher fee when it sits unmined.
//!
//! The nonce is the chain's pending count at the moment of building (never a local counter), so a
//! failed estimate or a broadcast the node never took leaves no gap: the next attempt reuses the
//! nonce. A replacement raises both fee caps by at least an eighth (geth and Frontier refuse a
//! replacement below +10 %).

use alloy::consensus::TxEnvelope;
use alloy::eips::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::writer::{Call, Confirmed, Included, Writer};
use crate::{Error, Result};

/// One signed transaction of a call: everything needed to broadcast it again or replace it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The sender.
    pub from: Address,
    /// Its nonce.
    pub nonce: u64,
    /// EIP-1559 fee cap, wei per gas.
    pub max_fee_per_gas: u128,
    /// EIP-1559 priority fee, wei per gas.
    pub max_priority_fee_per_gas: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// The signed transaction, EIP-2718 encoded.
    pub raw: Bytes,
    /// Its hash.
    pub hash: B256,
}

/// What building an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// A signed transaction, not broadcast yet.
    Attempt(Attempt),
    /// The simulation says the subject is settled already: nothing to send.
    AlreadySettled {
        /// The contract's answer.
        reason: ContractError,
    },
}

/// Where an attempt stands on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptStatus {
    /// Mined with the configured confirmations.
    Mined(Confirmed),
    /// Mined, waiting for confirmations.
    Confirming,
    /// Not mined, and its nonce not used yet: still pending (or lost by the node).
    Pending,
    /// Not mined, but the sender's nonce moved past it: another transaction at that nonce (a
    /// replacement, or something else) was mined instead.
    NonceUsed,
}

/// Both fee caps raised by an eighth, and at least by one wei.
pub fn bumped(fee: u128) -> u128 {
    fee.saturating_add((fee / 8).max(1))
}

impl Writer {
    fn wallet(&self) -> Result<&EthereumWallet> {
        self.wallet_ref().ok_or_else(|| {
            Error::invalid(
                "transaction manager",
                "this writer has no key to sign with (Writer::with_wallet)",
            )
        })
    }

    fn request(&self, call: &Call) -> TransactionRequest {
        TransactionRequest::default()
            .with_from(self.from())
            .with_to(self.contract())
            .with_input(call.calldata())
    }

    /// Simulates `call` on the pending block and builds and signs a transaction of it: a fresh
    /// one at the chain's pending nonce, or, with `replacing`, one at that attempt's nonce with
    /// both fees raised (never below the node's current estimate).
    pub async fn prepare(&self, call: &Call, replacing: Option<&Attempt>) -> Result<Prepared> {
        // A replacement is simulated on the latest block: on the pending one, the transaction
        // it replaces would already have settled the subject.
        let simulated = match replacing {
            None => self.simulate_pending(call).await,
            Some(_) => self.simulate_latest(call).await,
        };
        if let Err(e) = simulated {
            if let Some(reason) = Writer::settled_reason(call, &e) {
                return Ok(Prepared::AlreadySettled { reason });
            }
            return Err(e);
        }
        let provider: &DynProvider = self.provider_ref();
        let fees = provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| Error::rpc("eth_feeHistory", e))?;
        let (nonce, max_fee, tip, gas) = match replacing {
            Some(a) => (
                a.nonce,
                bumped(a.max_fee_per_gas).max(fees.max_fee_per_gas),
                bumped(a.max_priority_fee_per_gas).max(fees.max_priority_fee_per_gas),
                a.gas_limit,
            ),
            None => {
                let nonce = provider
                    .get_transaction_count(self.from())
                    .pending()
                    .await
                    .map_err(|e| Error::rpc("eth_getTransactionCount(pending)", e))?;
                let estimate = match provider.estimate_gas(self.request(call)).await {
                    Ok(g) => g,
                    Err(e) => {
                        // The estimate runs the call again and can meet a settlement that
                        // landed since the simulation.
                        let e = crate::writer::classify_rpc(call.name().to_string(), e);
                        return match Writer::settled_reason(call, &e) {
                            Some(reason) => Ok(Prepared::AlreadySettled { reason }),
                            None => Err(e),
                        };
                    }
                };
                // A fifth of headroom: the state may move between estimate and inclusion.
                let gas = estimate.saturating_add(estimate / 5);
                (
                    nonce,
                    fees.max_fee_per_gas,
                    fees.max_priority_fee_per_gas,
                    gas,
                )
            }
        };
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| Error::rpc("eth_chainId", e))?;
        let request = self
            .request(call)
            .with_nonce(nonce)
            .with_chain_id(chain_id)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(tip.min(max_fee));
        let envelope: TxEnvelope = request
            .build(self.wallet()?)
            .await
            .map_err(|e| Error::invalid(format!("signing {}", call.name()), e.to_string()))?;
        Ok(Prepared::Attempt(Attempt {
            from: self.from(),
            nonce,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip.min(max_fee),
            gas_limit: gas,
            hash: *envelope.tx_hash(),
            raw: envelope.encoded_2718().into(),
        }))
    }

    /// Broadcasts a prepared (and persisted) attempt. A node that already has it, or already
    /// mined its nonce, is not an error: the receipt says what happened.
    pub async fn broadcast(&self, attempt: &Attempt) -> Result<()> {
        match self.provider_ref().send_raw_transaction(&attempt.raw).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = e.to_string().to_lowercase();
                if text.contains("already known")
                    || text.contains("already imported")
                    || text.contains("nonce too low")
                    || text.contains("transaction already exists")
                {
                    Ok(())
                } else {
                    Err(Error::rpc(
                        format!("eth_sendRawTransaction({})", attempt.hash),
                        e,
                    ))
                }
            }
        }
    }

    async fn receipt(
        &self,
        attempt: &Attempt,
    ) -> Result<Option<alloy::rpc::types::TransactionReceipt>> {
        self.provider_ref()
            .get_transaction_receipt(attempt.hash)
            .await
            .map_err(|e| Error::rpc(format!("eth_getTransactionReceipt({})", attempt.hash), e))
    }

    /// The sender's mined nonce (the chain's `latest` count).
    pub async fn mined_nonce(&self) -> Result<u64> {
        self.provider_ref()
            .get_transaction_count(self.from())
            .latest()
            .await
            .map_err(|e| Error::rpc("eth_getTransactionCount(latest)", e))
    }

    /// Where `attempt` (a transaction of `call`) stands, without waiting.
    pub async fn status(&self, call: &Call, attempt: &Attempt) -> Result<AttemptStatus> {
        let provider = self.provider_ref();
        let r = match self.receipt(attempt).await? {
            Some(r) => r,
            None if self.mined_nonce().await? <= attempt.nonce => {
                return Ok(AttemptStatus::Pending)
            }
            // The nonce moved after the receipt was read: this attempt may be what moved it, in a
            // block mined between the two reads. Read after the nonce, its receipt is there if
            // so; calling it superseded would record a mined transaction as someone else's.
            None => match self.receipt(attempt).await? {
                Some(r) => r,
                None => return Ok(AttemptStatus::NonceUsed),
            },
        };
        let block = r.block_number.ok_or_else(|| {
            Error::decode(format!("receipt of {}", attempt.hash), "no block number")
        })?;
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))?;
        if head.saturating_add(1) < block.saturating_add(self.confirmations()) {
            return Ok(AttemptStatus::Confirming);
        }
        if r.status() {
            return Ok(AttemptStatus::Mined(Confirmed::Included(Included {
                tx: attempt.hash,
                block,
                gas_used: r.gas_used,
            })));
        }
        self.explain(call, attempt.hash, block)
            .await
            .map(AttemptStatus::Mined)
    }
}
