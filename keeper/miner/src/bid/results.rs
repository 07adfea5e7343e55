//! A window's result for one miner, computed from on-chain data with the pure auction crate, the
//! functions the keepers run: bids are the commitments at the window's start (fresh, accepted,
//! hotkey not banned), prices the gamma-MSI consensus of the validators' price commitments at that
//! block (weighted by their stake), bans the ban consensus of their bitmaps, the budget from the
//! mechanism's emission split, winners by the exact knapsack. Hotkeys are ss58 strings in the
//! auction's tie-break.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use tao20_auction::bids::{collect_bids, PostedCommitment};
use tao20_auction::budget::{BudgetParams, WindowPrices};
use tao20_auction::commitment::{BidPolicy, Commitment};
use tao20_auction::consensus::{ban_consensus, banned_hotkeys, gamma_msi, BanVote, PricePoint};
use tao20_auction::solve::{select_winners, BidRow};
use tao20_auction::window::Window;
use tao20_chain::types::{AccountId, NetUid};
use tao20_chain::Subtensor;
use tao20_core::Fp18;

use crate::Result;

/// The price keys of a price commitment.
pub const ALPHA_TAO: &str = "ALPHA_TAO";
/// TAO in USDC.
pub const TAO_USDC: &str = "TAO_USDC";
/// USDC per PH per day.
pub const HASHP_USDC: &str = "HASHP_USDC";
/// The budget cap.
pub const CAP: &str = "cap";

/// The auction's parameters.
#[derive(Debug, Clone, Copy)]
pub struct AuctionParams {
    /// gamma-MSI coverage.
    pub gamma: Fp18,
    /// Highest price multiplier a winner may bid.
    pub max_price: Fp18,
    /// Staleness and the v1 switch.
    pub policy: BidPolicy,
    /// The auction's mechanism.
    pub mechanism: u8,
}

/// What a window meant for one miner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Won: deliver these workers.
    Won,
    /// Bid (or not) and won nothing.
    Lost,
    /// Banned by the validators' consensus: its bids were ignored.
    Banned,
    /// The window had no auction (no emission split, no price consensus).
    Skipped,
}

/// A window's result for one miner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowResult {
    /// The window.
    pub window: Window,
    /// The outcome.
    pub outcome: Outcome,
    /// Why (for lost and skipped).
    pub reason: Option<String>,
    /// The miner's winning rows: workers to deliver.
    pub deliver: Vec<BidRow>,
    /// The miner's bid rows at the window start.
    pub bids: Vec<BidRow>,
    /// The budget, PH.
    pub budget_ph: Option<Fp18>,
    /// The consensus prices.
    pub prices: BTreeMap<String, Fp18>,
    /// Winners in all.
    pub winners: usize,
}

impl WindowResult {
    /// The hook's JSON document.
    pub fn to_json(&self, hotkey: &str, netuid: NetUid) -> Value {
        let rows = |rows: &[BidRow]| {
            rows.iter()
                .map(|r| json!({"hashrate": r.hashrate.to_string(), "price": r.price.to_string(), "count": r.count}))
                .collect::<Vec<_>>()
        };
        let total: u128 = self
            .deliver
            .iter()
            .map(|r| r.hashrate.raw().saturating_mul(u128::from(r.count)))
            .sum();
        json!({
            "event": "window",
            "result": self.outcome,
            "reason": self.reason,
            "hotkey": hotkey,
            "netuid": netuid,
            "window": {
                "epochBlock": self.window.subnet_epoch_start,
                "index": self.window.index,
                "start": self.window.start,
                "end": self.window.end,
            },
            "deliver": rows(&self.deliver),
            "deliverHashrate": Fp18::from_raw(total).to_string(),
            "bids": rows(&self.bids),
            "budgetPh": self.budget_ph.map(|b| b.to_string()),
            "prices": self.prices.iter().map(|(k, v)| (k.clone(), Value::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
            "winners": self.winners,
        })
    }
}

fn ss58(a: &AccountId) -> String {
    tao20_wallet::ss58::encode(&a.0)
}

/// The result of `window` for the miner `hotkey`.
pub async fn window_result<S: Subtensor>(
    sub: &S,
    netuid: NetUid,
    window: Window,
    hotkey: &AccountId,
    params: &AuctionParams,
) -> Result<WindowResult> {
    let at = window.start;
    let me = ss58(hotkey);
    let commitments = sub.commitments(at, netuid).await?;
    let neurons = sub.neurons(at, netuid).await?;
    let stake_of: BTreeMap<AccountId, u64> = neurons.iter().map(|n| (n.hotkey, n.stake)).collect();
    let uid_hotkeys: BTreeMap<u16, String> =
        neurons.iter().map(|n| (n.uid, ss58(&n.hotkey))).collect();
    let mut points: BTreeMap<&str, Vec<PricePoint>> = BTreeMap::new();
    let mut votes = Vec::new();
    let mut posted = Vec::new();
    for c in &commitments {
        let who = ss58(&c.hotkey);
        let stake = u128::from(stake_of.get(&c.hotkey).copied().unwrap_or(0));
        match Commitment::decode(&c.data) {
            Ok(Commitment::Price(p)) => {
                for key in [ALPHA_TAO, TAO_USDC, HASHP_USDC, CAP] {
                    if let Some(price) = p.prices.get(key) {
                        points.entry(key).or_default().push(PricePoint {
                            hotkey: who.clone(),
                            stake,
                            price: *price,
                        });
                    }
                }
                votes.push(BanVote {
                    hotkey: who.clone(),
                    stake,
                    bans: p.bans,
                });
            }
            _ => posted.push(PostedCommitment {
                hotkey: who.clone(),
                payload: c.data.clone(),
                block: c.block,
            }),
        }
    }
    let mut prices = BTreeMap::new();
    for (key, pts) in &points {
        if let Some(p) = gamma_msi(pts, params.gamma)? {
            prices.insert((*key).to_string(), p);
        }
    }
    let banned_uids = ban_consensus(&votes)?;
    let banned = banned_hotkeys(&banned_uids, &uid_hotkeys);
    let (rows, skipped) = collect_bids(&posted, at, &params.policy, &banned);
    let mine: Vec<BidRow> = rows.iter().filter(|r| r.hotkey == me).cloned().collect();
    let mut result = WindowResult {
        window,
        outcome: Outcome::Lost,
        reason: None,
        deliver: Vec::new(),
        bids: mine.clone(),
        budget_ph: None,
        prices: prices.clone(),
        winners: 0,
    };
    if banned.contains(&me) {
        result.outcome = Outcome::Banned;
        result.reason = Some("banned by the validators' consensus".into());
        return Ok(result);
    }
    let split = sub
        .mechanism_emission_split(at, netuid)
        .await?
        .get(usize::from(params.mechanism))
        .copied()
        .unwrap_or(0);
    let (Some(alpha_tao), Some(tao_usdc), Some(hashp_usdc)) = (
        prices.get(ALPHA_TAO).copied(),
        prices.get(TAO_USDC).copied(),
        prices.get(HASHP_USDC).copied(),
    ) else {
        result.outcome = Outcome::Skipped;
        result.reason = Some("no price consensus at the window start".into());
        return Ok(result);
    };
    let window_prices = WindowPrices {
        alpha_tao,
        tao_usdc,
        hashp_usdc,
        cap: prices.get(CAP).copied(),
    };
    let Some(budget) = BudgetParams::default().budget_ph(&window_prices, split, true)? else {
        result.outcome = Outcome::Skipped;
        result.reason = Some(format!(
            "no budget (mechanism {} split {split})",
            params.mechanism
        ));
        return Ok(result);
    };
    result.budget_ph = Some(budget);
    if mine.is_empty() {
        let why = skipped
            .iter()
            .find(|(h, _)| *h == me)
            .map(|(_, s)| format!("bid not counted: {s:?}"))
            .unwrap_or_else(|| "no bid at the window start".into());
        result.reason = Some(why);
        return Ok(result);
    }
    let selection = select_winners(&rows, budget, params.max_price)?;
    result.winners = selection.winners.len();
    result.deliver = selection
        .winners
        .iter()
        .filter(|w| w.hotkey == me)
        .cloned()
        .collect();
    if result.deliver.is_empty() {
        let above = mine.iter().all(|r| r.price > params.max_price);
        result.reason = Some(if above {
            format!("every bid is priced above {}", params.max_price)
        } else {
            "outbid within the budget".into()
        });
    } else {
        result.outcome = Outcome::Won;
    }
    Ok(result)
}
