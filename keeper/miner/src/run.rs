//! Running the miners as processes: keys, the subtensor client (subxt, to finney, testnet or a
//! devnet's node alike), the store, and the loop until SIGINT or SIGTERM.

use std::path::Path;

use tao20_chain::client::SubxtClient;

use crate::arb::Arbitrageur;
use crate::bid::{self, Bidder};
use crate::config::MinerConfig;
use crate::evm::EvmAccount;
use crate::store::Store;
use crate::{keys, Error, Result};

/// `tao20 miner create`: runs the creation miner of `cfg` until a signal.
pub async fn create(cfg: MinerConfig) -> Result<()> {
    let coldkey = keys::coldkey(&cfg.wallet)?;
    let hotkey = keys::stake_hotkey(&cfg.stake, &cfg.wallet)?;
    let evm = EvmAccount::connect(&cfg.bevm.rpc, keys::evm(&cfg.evm)?).await?;
    let store = Store::open(&cfg.store.path)?;
    let endpoint = cfg.subtensor.endpoint()?;
    let stop = tao20_runtime::signal::stop_on_signal("miner");
    let sub = SubxtClient::connect(&endpoint, Some(coldkey)).await?;
    Arbitrageur::new(cfg, sub, hotkey, evm, store)
        .await?
        .run(stop)
        .await
}

/// `tao20 miner bid`: runs the bidder of the bids file at `path` until a signal.
pub async fn bid(path: &Path) -> Result<()> {
    let (text, parsed) = bid::load(path)?;
    let first = parsed.map_err(|e| Error::config(path.display().to_string(), e))?;
    let hotkey = keys::hotkey(&first.wallet)?;
    let endpoint = first.subtensor.access().endpoint()?;
    let stop = tao20_runtime::signal::stop_on_signal("miner");
    let sub = SubxtClient::connect(&endpoint, Some(hotkey)).await?;
    Bidder::new(path.to_path_buf(), text, first, sub)
        .await?
        .run(stop)
        .await
}
