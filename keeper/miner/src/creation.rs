//! The creation steps a miner takes, on any `Subtensor` and any BEVM: request a creation with its
//! bond, buy the basket's alpha, deliver it in one `batch_all` carrying the request's remark, and
//! follow the request until the contract settles it. The arbitrage loop (`tao20 miner create`)
//! decides when; these steps only carry it out.

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use tao20_bevm::reader::{RequestInfo, RequestStatus};
use tao20_bevm::{Deployment, Reader, Writer};
use tao20_chain::types::{AccountId, Bytes32, Event, Inclusion, NetUid, TransferStake};
use tao20_chain::Subtensor;
use tao20_creation::eip712::CreationFile;
use tao20_creation::ids::delivery_remark;

use crate::{Error, Result};

/// A miner's identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MinerKeys {
    /// The coldkey that buys and delivers alpha.
    pub coldkey: AccountId,
    /// The hotkey its stake sits under (registered on every basket subnet).
    pub hotkey: AccountId,
    /// The EVM address that requests and receives shares.
    pub evm: Address,
}

/// What a delivery sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// Where it landed.
    pub inclusion: Inclusion,
    /// Alpha the vault received, per netuid (the `StakeAdded` amounts).
    pub amounts: Vec<(NetUid, u64)>,
}

/// The alpha of each netuid a delivery of `units` must carry: `units x qtyPerUnit`.
pub fn basket(file: &CreationFile, units: u32) -> Result<Vec<(NetUid, u64)>> {
    file.assets
        .iter()
        .map(|a| {
            a.qty_per_unit
                .checked_mul(u64::from(units))
                .map(|q| (a.netuid, q))
                .ok_or_else(|| {
                    Error::Invalid(format!("{units} units of netuid {} overflow", a.netuid))
                })
        })
        .collect()
}

/// Requests a creation of `units` with `bond` wei and a slippage bound; returns the request.
pub async fn request(
    writer: &Writer,
    reader: &Reader,
    keys: &MinerKeys,
    units: u32,
    min_shares_out: U256,
    bond: U256,
) -> Result<RequestInfo> {
    let (id, included) = writer
        .request_creation(
            units,
            B256::from(keys.coldkey.0),
            keys.evm,
            min_shares_out,
            bond,
        )
        .await?;
    reader
        .request(id, included.block)
        .await?
        .ok_or_else(|| Error::Invalid(format!("request {id} not found after its receipt")))
}

/// Delivers `amounts` for `request` from the miner's coldkey: one `batch_all` of the remark and
/// one same-netuid `transfer_stake` to the vault per netuid.
pub async fn deliver<S: Subtensor>(
    sim: &S,
    deployment: &Deployment,
    keys: &MinerKeys,
    request_id: B256,
    amounts: &[(NetUid, u64)],
) -> Result<Delivered> {
    let vault = Bytes32(deployment.vault_coldkey.0);
    let remark = delivery_remark(deployment.chain_id, deployment.vault_coldkey, request_id);
    let transfers = amounts
        .iter()
        .map(|(n, a)| TransferStake {
            destination_coldkey: vault,
            hotkey: keys.hotkey,
            origin_netuid: *n,
            destination_netuid: *n,
            alpha_amount: *a,
        })
        .collect();
    let inclusion = sim.deliver(remark.to_vec(), transfers).await?;
    let amounts = inclusion
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) if s.coldkey == vault => Some((s.netuid, s.alpha)),
            _ => None,
        })
        .collect();
    Ok(Delivered { inclusion, amounts })
}

/// Waits until the contract settles `request_id` (Minted, Refunded or Expired), polling every
/// `poll`, at most `timeout`.
pub async fn settled(
    reader: &Reader,
    request_id: B256,
    poll: Duration,
    timeout: Duration,
) -> Result<RequestInfo> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let head = reader.head().await?;
        if let Some(r) = reader.request(request_id, head).await? {
            if r.status != RequestStatus::Pending {
                return Ok(r);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "request {request_id} still pending"
            )));
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tao20_creation::eip712::Asset;

    #[test]
    fn a_basket_is_units_times_the_file_quantities() {
        let file = CreationFile {
            epoch_id: 0,
            valid_from_block: 0,
            valid_until_block: 9,
            shares_per_unit: U256::from(1u8),
            tolerance_bps: 10,
            min_units: 1,
            assets: vec![
                Asset {
                    netuid: 2,
                    qty_per_unit: 7,
                    weight_bps: 5_000,
                },
                Asset {
                    netuid: 5,
                    qty_per_unit: 11,
                    weight_bps: 5_000,
                },
            ],
            signer_set_version: 1,
        };
        assert_eq!(basket(&file, 3).unwrap(), vec![(2, 21), (5, 33)]);
        let mut big = file.clone();
        big.assets[0].qty_per_unit = u64::MAX;
        assert!(basket(&big, 2).is_err());
    }
}
