//! `report.json`: what the demo did and saw, and the checks it passed or failed.
//!
//! Amounts are decimal strings (rao, wei, share units of 1e-18) so that a reader in any language
//! gets them exactly.

use serde::{Deserialize, Serialize};

/// The whole report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The run's parameters.
    pub params: Params,
    /// The keepers.
    pub keepers: Vec<KeeperRow>,
    /// Creation epochs published during the run.
    pub epochs: Vec<EpochRow>,
    /// Every creation request.
    pub creations: Vec<CreationRow>,
    /// Every redemption.
    pub redemptions: Vec<RedemptionRow>,
    /// NAV per share and supply, sampled.
    pub nav: Vec<NavPoint>,
    /// The TAO20 market's price against NAV, sampled (empty without a market on the devnet).
    pub market: Vec<MarketPoint>,
    /// Settled auction windows (as the first honest keeper settled them).
    pub windows: Vec<WindowRow>,
    /// Weights the first honest keeper submitted.
    pub weights: Vec<WeightRow>,
    /// Gas per transaction kind (keepers' and miners' transactions).
    pub gas: Vec<GasRow>,
    /// The honest keepers' agreement.
    pub agreement: Agreement,
    /// The faults injected, with the blocks they happened at.
    pub faults: Vec<FaultRow>,
    /// `tao20 miner status` of the arbitrageur process at the end.
    pub arbitrageur: Option<serde_json::Value>,
    /// How each keeper and miner process reached subtensor, and what it cost the node.
    pub clients: Vec<ClientRow>,
    /// JSON-RPC requests the devnet's Substrate endpoint served during the scenario.
    pub node_load: NodeLoad,
    /// Blocks from a delivery to the mint of its request, over the minted requests.
    pub mint_latency: Option<MintLatency>,
    /// Each keeper's finality lag, sampled every second of the scenario.
    #[serde(default)]
    pub keeper_lag: Vec<LagRow>,
    /// The expectations.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// Records a check.
    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            ok,
            detail: detail.into(),
        });
    }
}

/// One keeper's finality lag (`tao20_finality_lag_blocks`: the chain's finalized head less the
/// last block it committed), sampled every second while it served metrics, from the first time
/// it followed the head. The killed keeper has no samples while it is down; the cut-off keeper's
/// include its outage.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LagRow {
    /// `validator-i`.
    pub name: String,
    /// Samples taken.
    pub samples: u64,
    /// The median sample, blocks (the lower of the two middle ones).
    pub median: u64,
    /// The largest sample, blocks.
    pub max: u64,
}

impl LagRow {
    /// The row of `samples` of keeper `name`.
    pub fn of(name: String, mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        Self {
            name,
            samples: u64::try_from(n).unwrap_or(u64::MAX),
            median: samples.get(n.saturating_sub(1) / 2).copied().unwrap_or(0),
            max: samples.last().copied().unwrap_or(0),
        }
    }
}

/// One process's subtensor client, as its own log names it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClientRow {
    /// The process (its log's name).
    pub process: String,
    /// The client it connected with (`SubxtClient`), or `none seen`.
    pub client: String,
    /// The endpoint it connected to.
    pub endpoint: String,
    /// Requests its client sent (keepers: `tao20_subtensor_requests_total` at the end).
    pub requests: Option<u64>,
    /// Blocks it processed meanwhile (keepers: `tao20_blocks_processed_total`).
    pub blocks: Option<u64>,
}

/// The Substrate endpoint's load over the scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NodeLoad {
    /// Requests served (every process, subscriptions and `dev_*` administration included).
    pub requests: u64,
    /// Blocks produced meanwhile.
    pub blocks: u64,
}

/// Blocks from a delivery's block to its mint's block.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintLatency {
    /// Minted requests measured.
    pub mints: u64,
    /// The median (the lower middle of an even count).
    pub median: u64,
    /// The longest.
    pub max: u64,
}

impl MintLatency {
    /// Over `blocks` (delivery block to mint block of each minted request); `None` when empty.
    pub fn of(mut blocks: Vec<u64>) -> Option<Self> {
        blocks.sort_unstable();
        let max = *blocks.last()?;
        Some(MintLatency {
            mints: blocks.len() as u64,
            median: blocks[(blocks.len() - 1) / 2],
            max,
        })
    }
}

/// The run's parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// Blocks of a creation epoch (shortened from the protocol's 14 days).
    pub epoch_length: u64,
    /// Milliseconds per devnet block.
    pub block_time_ms: u64,
    /// The devnet's key seed.
    pub seed: u64,
    /// Blocks of a subnet epoch (the fund subnet's tempo).
    pub tempo: u16,
    /// The price window W of the valuation (blocks).
    pub price_window: u64,
    /// Keepers, of which faulty.
    pub keepers: usize,
    /// Faulty keepers.
    pub faulty_keepers: usize,
    /// Basket subnets.
    pub subnets: u16,
    /// Whether this was the shortened run of the tests.
    pub quick: bool,
    /// First and last block of the run.
    pub first_block: u64,
    /// Last block.
    pub last_block: u64,
    /// Wall-clock seconds of the scenario (without the build).
    pub wall_secs: u64,
}

/// A keeper.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeeperRow {
    /// `validator-i`.
    pub name: String,
    /// Its report key's address.
    pub signer: String,
    /// Whether it was configured to sign a wrong NAV.
    pub faulty: bool,
    /// Times the demo restarted it.
    pub restarts: u32,
    /// Subjects it signed.
    pub signed: u64,
    /// Proposals its journal refused (a second content for a signed subject).
    pub refused: u64,
    /// Transactions it sent that were included.
    pub txs: u64,
    /// The last block it processed.
    pub cursor: u64,
}

/// A creation epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochRow {
    /// The epoch.
    pub epoch_id: u64,
    /// Where its file was stored.
    pub published_block: u64,
    /// Who sent the transaction (`devnet` for the genesis epoch).
    pub publisher: String,
    /// Its assets.
    pub assets: Vec<AssetRow>,
}

/// An asset of a creation file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetRow {
    /// The subnet.
    pub netuid: u16,
    /// Its weight, basis points.
    pub weight_bps: u32,
    /// Alpha (rao) per creation unit.
    pub qty_per_unit: String,
}

/// A creation request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationRow {
    /// The request.
    pub request_id: String,
    /// The miner's name in the demo.
    pub miner: String,
    /// Creation units.
    pub units: u32,
    /// `Minted`, `Refunded`, `Expired` or `Pending`.
    pub status: String,
    /// What the demo did with it (`full`, `incomplete`, `manipulated`, ...).
    pub note: String,
    /// Its block.
    pub request_block: u64,
    /// The delivery's block.
    pub delivery_block: u64,
    /// Where it settled.
    pub settled_block: Option<u64>,
    /// The delivery's value at the official prices (rao).
    pub value_rao: Option<String>,
    /// NAV per share at the valuation (1e18 = 1 TAO).
    pub nav_per_share: Option<String>,
    /// Shares minted to the receiver.
    pub shares_out: Option<String>,
    /// The signers of the landed report.
    pub signers: Vec<String>,
    /// On-chain transactions settling it.
    pub txs: u64,
    /// Their gas.
    pub gas_used: u64,
}

/// A redemption.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionRow {
    /// The holder.
    pub holder: String,
    /// Shares redeemed.
    pub shares: String,
    /// Its block.
    pub block: u64,
    /// What it paid.
    pub amounts: Vec<AmountRow>,
}

/// An amount of one position.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmountRow {
    /// The subnet (0: native TAO).
    pub netuid: u16,
    /// Alpha rao (or wei for native TAO).
    pub amount: String,
}

/// NAV at a block.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NavPoint {
    /// The block.
    pub block: u64,
    /// NAV per share at spot prices (1e18 = 1 TAO).
    pub nav_per_share: String,
    /// Total supply.
    pub supply: String,
}

/// The market at a block.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketPoint {
    /// The block.
    pub block: u64,
    /// TAO per TAO20 in the pool (1e18 = 1).
    pub pool_price: String,
    /// NAV per share (1e18 = 1 TAO).
    pub nav_per_share: String,
}

/// A settled auction window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowRow {
    /// The subnet epoch's first block.
    pub epoch_start: u64,
    /// Window index.
    pub index: u64,
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// The budget, PH.
    pub budget_ph: Option<String>,
    /// PH bought (sum of winners' hashrate x count).
    pub spend_ph: String,
    /// Winners: `uid:hashrate x count @ price`.
    pub winners: Vec<String>,
    /// Uids banned at the window's start.
    pub banned: Vec<u64>,
    /// Uids that failed delivery in it.
    pub failed: Vec<u64>,
    /// Why it was skipped, if it was.
    pub skipped: Option<String>,
    /// Whether this keeper skipped the delivery check (a gap in its own pool samples).
    pub delivery_skipped: bool,
}

/// Weights submitted for one mechanism and subnet epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightRow {
    /// 0: creation volume; 1: the hashrate auction.
    pub mechanism: u8,
    /// The subnet epoch.
    pub epoch: u64,
    /// Where they were committed (or set).
    pub commit_block: Option<u64>,
    /// Where they were revealed and read back.
    pub reveal_block: Option<u64>,
    /// Uids.
    pub uids: Vec<u64>,
    /// u16 weights.
    pub weights: Vec<u64>,
    /// Whether the chain's weights matched after the reveal.
    pub matches_on_chain: bool,
    /// The keeper's status of these weights (`matched`, `refused`, `empty`, ...).
    #[serde(default)]
    pub status: String,
    /// Why they failed, when they did (the runtime's error name and values).
    #[serde(default)]
    pub detail: Option<String>,
    /// The burn uid's share of the weights, basis points rounded down: the share of the
    /// mechanism's miner emission the chain withholds, which it counts in `MinerBurned` and which
    /// shrinks the subnet's emission share (`coinbase/subnet_emissions.rs`, `get_shares`).
    #[serde(default)]
    pub burn_bps: Option<u64>,
}

/// Gas of one kind of transaction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GasRow {
    /// The call.
    pub call: String,
    /// Transactions.
    pub count: u64,
    /// Their gas.
    pub gas: u64,
}

/// The honest keepers' agreement.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    /// Subjects signed by at least two honest keepers.
    pub reports: u64,
    /// Of those, subjects two honest keepers signed with different contents.
    pub honest_disagreements: u64,
    /// Subjects where the faulty keeper signed a content no honest keeper signed.
    pub faulty_disagreements: u64,
}

/// A fault the demo injected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRow {
    /// What.
    pub kind: String,
    /// Whom.
    pub target: String,
    /// From block.
    pub from_block: u64,
    /// To block.
    pub to_block: u64,
    /// Detail.
    pub detail: String,
}

/// An expectation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Its name.
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}
