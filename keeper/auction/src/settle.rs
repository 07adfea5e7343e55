//! One validation window settled end to end, as a pure function of what the chain and the pool
//! said: the price and ban consensus of the validators' price commitments, the bids committed by
//! the window start, the budget, winner selection, delivery from pool telemetry, the bans of the
//! winners that failed, and the window's settlement for the epoch's weights.
//!
//! Every input is read at the window's start block (commitments, neurons, the emission split), so
//! every honest validator reading the same finalized chain settles the window identically; the
//! telemetry is the validator's own sampling of the pool during the window (its gaps are handled
//! by [`crate::delivery`]'s rule: an outage of the validator never bans a miner).
//!
//! A window is *skipped* (no winners, no budget, no bans) when the mechanism's emission split is
//! zero or missing, or when the price consensus lacks ALPHA_TAO, TAO_USDC or HASHP_USDC; it still
//! has a result, so it is settled once.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tao20_core::Fp18;

use crate::bids::{collect_bids, PostedCommitment, Skipped};
use crate::budget::{BudgetParams, WindowPrices};
use crate::commitment::{BidPolicy, Commitment};
use crate::consensus::{
    ban_consensus, banned_hotkeys, gamma_msi, BanVote, PricePoint, DEFAULT_GAMMA,
};
use crate::delivery::{verify_delivery, DeliveryParams, Telemetry};
use crate::solve::{select_winners, Winner, DEFAULT_MAX_PRICE};
use crate::weights::{Payment, WindowSettlement};
use crate::window::Window;
use crate::Result;

/// The price keys of a validator's price commitment.
pub const ALPHA_TAO: &str = "ALPHA_TAO";
/// TAO in USDC.
pub const TAO_USDC: &str = "TAO_USDC";
/// USDC per PH per day.
pub const HASHP_USDC: &str = "HASHP_USDC";
/// The budget cap.
pub const CAP: &str = "cap";

/// A registered neuron at the window start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuronView {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey (as commitments name it).
    pub hotkey: String,
    /// Its stake (any unit).
    pub stake: u128,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
}

/// Every parameter of the auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionParams {
    /// gamma-MSI coverage (0.67).
    pub gamma: Fp18,
    /// Which bids count.
    pub bids: BidPolicy,
    /// Items priced above this multiplier are dropped (1.05).
    pub max_price: Fp18,
    /// The budget formula's constants.
    pub budget: BudgetParams,
    /// Delivery verification.
    pub delivery: DeliveryParams,
}

impl Default for AuctionParams {
    fn default() -> Self {
        Self {
            gamma: DEFAULT_GAMMA,
            bids: BidPolicy::default(),
            max_price: DEFAULT_MAX_PRICE,
            budget: BudgetParams::default(),
            delivery: DeliveryParams::default(),
        }
    }
}

/// What a window is settled from.
#[derive(Debug, Clone)]
pub struct WindowInputs<'a> {
    /// The window.
    pub window: Window,
    /// Every commitment on the subnet at the window start.
    pub commitments: &'a [PostedCommitment],
    /// The subnet's neurons at the window start.
    pub neurons: &'a [NeuronView],
    /// The mechanism's part of `MechanismEmissionSplit` (of 65 535) at the window start.
    pub split: u16,
    /// The validator's pool telemetry during the window.
    pub telemetry: &'a Telemetry,
    /// The parameters.
    pub params: &'a AuctionParams,
}

/// A settled window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResult {
    /// The window.
    pub window: Window,
    /// Why it was skipped, if it was.
    pub skipped: Option<String>,
    /// Consensus ALPHA_TAO.
    pub alpha_tao: Option<Fp18>,
    /// Consensus TAO_USDC.
    pub tao_usdc: Option<Fp18>,
    /// Consensus HASHP_USDC.
    pub hashp_usdc: Option<Fp18>,
    /// Consensus cap.
    pub cap: Option<Fp18>,
    /// The budget the auction bought against, PH (capped).
    pub budget_ph: Option<Fp18>,
    /// Uids banned by consensus at the window start (their bids were ignored).
    pub banned_at_start: Vec<u16>,
    /// Miners whose bid commitment was refused (malformed, or breaking the bid rule), with
    /// the reason; the window went on with everyone else's bids.
    pub refused: Vec<RefusedBid>,
    /// Winners by (price, hashrate, hotkey).
    pub winners: Vec<WinnerView>,
    /// Whether the selection is a proven optimum.
    pub optimal: bool,
    /// Whether delivery was not checked for a sampling gap (every winner counted delivered).
    pub delivery_skipped: bool,
    /// Winners that delivered less than the threshold: banned by this validator.
    pub failed: Vec<FailedWinner>,
    /// PH delivered per winning uid (what the epoch's weights pay for), with its price.
    pub payments: Vec<PaymentView>,
    /// The miners' alpha per block (uncapped; the weights' budget).
    pub miner_alpha_per_block: Option<Fp18>,
}

/// A winner, as the result lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WinnerView {
    /// Its hotkey.
    pub hotkey: String,
    /// Its uid at the window start.
    pub uid: Option<u16>,
    /// PH per worker.
    pub hashrate: Fp18,
    /// The price multiplier.
    pub price: Fp18,
    /// Workers won.
    pub count: u64,
}

/// A bid commitment the codec refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedBid {
    /// Its hotkey.
    pub hotkey: String,
    /// Its uid at the window start.
    pub uid: Option<u16>,
    /// Why, as the codec says it (the group, byte, value and rule).
    pub reason: String,
}

/// A winner that under-delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedWinner {
    /// Its hotkey.
    pub hotkey: String,
    /// Its uid at the window start.
    pub uid: Option<u16>,
}

/// One paid item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// The winner's uid.
    pub uid: u16,
    /// Delivered PH.
    pub delivered: Fp18,
    /// Its price.
    pub price: Fp18,
}

impl WindowResult {
    /// The window's contribution to its epoch's weights, when it was not skipped.
    pub fn settlement(&self) -> Option<WindowSettlement> {
        Some(WindowSettlement {
            window_blocks: self.window.blocks(),
            miner_alpha_per_block: self.miner_alpha_per_block?,
            alpha_tao: self.alpha_tao?,
            tao_usdc: self.tao_usdc?,
            hashp_usdc: self.hashp_usdc?,
            payments: self
                .payments
                .iter()
                .map(|p| Payment {
                    uid: p.uid,
                    delivered: p.delivered,
                    price: p.price,
                })
                .collect(),
        })
    }
}

/// Settles one window.
pub fn settle_window(inp: &WindowInputs<'_>) -> Result<WindowResult> {
    let uid_of: BTreeMap<&str, u16> = inp
        .neurons
        .iter()
        .map(|n| (n.hotkey.as_str(), n.uid))
        .collect();
    let hotkey_of_uid: BTreeMap<u16, String> = inp
        .neurons
        .iter()
        .map(|n| (n.uid, n.hotkey.clone()))
        .collect();
    let stake_of: BTreeMap<&str, &NeuronView> =
        inp.neurons.iter().map(|n| (n.hotkey.as_str(), n)).collect();

    // Price and ban consensus over the validators' price commitments, weighted by stake.
    let mut points: BTreeMap<&str, Vec<PricePoint>> = BTreeMap::new();
    let mut votes = Vec::new();
    for c in inp.commitments {
        let Some(n) = stake_of
            .get(c.hotkey.as_str())
            .filter(|n| n.validator_permit)
        else {
            continue;
        };
        let Ok(Commitment::Price(p)) = Commitment::decode(&c.payload) else {
            continue;
        };
        for key in [ALPHA_TAO, TAO_USDC, HASHP_USDC, CAP] {
            if let Some(price) = p.prices.get(key) {
                points.entry(key).or_default().push(PricePoint {
                    hotkey: c.hotkey.clone(),
                    stake: n.stake,
                    price: *price,
                });
            }
        }
        votes.push(BanVote {
            hotkey: c.hotkey.clone(),
            stake: n.stake,
            bans: p.bans,
        });
    }
    let consensus = |key: &str| -> Result<Option<Fp18>> {
        match points.get(key) {
            Some(pts) => gamma_msi(pts, inp.params.gamma),
            None => Ok(None),
        }
    };
    let alpha_tao = consensus(ALPHA_TAO)?;
    let tao_usdc = consensus(TAO_USDC)?;
    let hashp_usdc = consensus(HASHP_USDC)?;
    let cap = consensus(CAP)?;
    let banned_uids = ban_consensus(&votes)?;
    let banned: BTreeSet<String> = banned_hotkeys(&banned_uids, &hotkey_of_uid);
    let mut result = WindowResult {
        window: inp.window,
        skipped: None,
        alpha_tao,
        tao_usdc,
        hashp_usdc,
        cap,
        budget_ph: None,
        banned_at_start: banned_uids.iter().map(|u| u16::from(*u)).collect(),
        refused: Vec::new(),
        winners: Vec::new(),
        optimal: true,
        delivery_skipped: false,
        failed: Vec::new(),
        payments: Vec::new(),
        miner_alpha_per_block: None,
    };
    let (Some(alpha_tao), Some(tao_usdc), Some(hashp_usdc)) = (alpha_tao, tao_usdc, hashp_usdc)
    else {
        result.skipped = Some("no price consensus for ALPHA_TAO, TAO_USDC and HASHP_USDC".into());
        return Ok(result);
    };
    let Some(per_block) = inp.params.budget.miner_alpha_per_block(inp.split)? else {
        result.skipped = Some("the mechanism's emission split is zero".into());
        return Ok(result);
    };
    let prices = WindowPrices {
        alpha_tao,
        tao_usdc,
        hashp_usdc,
        cap,
    };
    let Some(budget) = inp.params.budget.budget_ph(&prices, inp.split, true)? else {
        result.skipped = Some("the hashprice is zero".into());
        return Ok(result);
    };
    result.miner_alpha_per_block = Some(per_block);
    result.budget_ph = Some(budget);

    let (rows, skipped) =
        collect_bids(inp.commitments, inp.window.start, &inp.params.bids, &banned);
    result.refused = skipped
        .into_iter()
        .filter_map(|(hotkey, why)| match why {
            Skipped::Invalid(e) => Some(RefusedBid {
                uid: uid_of.get(hotkey.as_str()).copied(),
                hotkey,
                reason: e.to_string(),
            }),
            _ => None,
        })
        .collect();
    let selection = select_winners(&rows, budget, inp.params.max_price)?;
    result.optimal = selection.certificate.optimal;
    result.winners = selection
        .winners
        .iter()
        .map(|w: &Winner| WinnerView {
            hotkey: w.hotkey.clone(),
            uid: uid_of.get(w.hotkey.as_str()).copied(),
            hashrate: w.hashrate,
            price: w.price,
            count: w.count,
        })
        .collect();
    let report = verify_delivery(
        &selection.winners,
        &inp.window,
        inp.telemetry,
        &inp.params.delivery,
    )?;
    result.delivery_skipped = report.skipped;
    result.failed = report
        .failed_hotkeys
        .iter()
        .map(|h| FailedWinner {
            hotkey: h.clone(),
            uid: uid_of.get(h.as_str()).copied(),
        })
        .collect();
    for item in report.items.iter().filter(|i| !i.delivered.is_zero()) {
        // A winner that left the subnet before the window start has nobody to pay.
        if let Some(uid) = uid_of.get(item.hotkey.as_str()) {
            result.payments.push(PaymentView {
                uid: *uid,
                delivered: item.delivered,
                price: item.price,
            });
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commitment::{BanBitmap, PriceCommitment};
    use crate::delivery::{Sample, WorkerReading};

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn window() -> Window {
        Window {
            subnet_epoch_start: 1_000,
            index: 1,
            start: 1_000,
            end: 1_059,
        }
    }

    fn neuron(uid: u16, hotkey: &str, stake: u128, permit: bool) -> NeuronView {
        NeuronView {
            uid,
            hotkey: hotkey.into(),
            stake,
            validator_permit: permit,
        }
    }

    fn price(hotkey: &str, bans: &[u8]) -> PostedCommitment {
        let mut prices = BTreeMap::new();
        prices.insert(ALPHA_TAO.into(), fp("0.05"));
        prices.insert(TAO_USDC.into(), fp("400"));
        prices.insert(HASHP_USDC.into(), fp("50"));
        prices.insert(CAP.into(), fp("1"));
        let c = PriceCommitment {
            prices,
            bans: (!bans.is_empty()).then(|| BanBitmap::from_uids(bans.iter().copied())),
        };
        PostedCommitment {
            hotkey: hotkey.into(),
            payload: Commitment::Price(c).encode().unwrap(),
            block: 990,
        }
    }

    fn bid(hotkey: &str, text: &str, block: u64) -> PostedCommitment {
        PostedCommitment {
            hotkey: hotkey.into(),
            payload: text.as_bytes().to_vec(),
            block,
        }
    }

    fn samples(workers: &[(&str, u128)]) -> Telemetry {
        Telemetry {
            samples: (0..13u64)
                .map(|i| Sample {
                    block: 1_000 + 5 * i,
                    workers: workers
                        .iter()
                        .map(|(n, h)| WorkerReading {
                            name: (*n).to_string(),
                            hashrate_hs: *h,
                        })
                        .collect(),
                })
                .collect(),
            from_proxy: false,
        }
    }

    #[test]
    fn a_window_pays_its_winners_and_bans_the_one_that_under_delivered() {
        let neurons = [
            neuron(0, "owner", 0, false),
            neuron(1, "v1", 1_000, true),
            neuron(2, "v2", 1_000, true),
            neuron(3, "m1", 0, false),
            neuron(4, "m2", 0, false),
        ];
        let commitments = [
            price("v1", &[]),
            price("v2", &[]),
            bid("m1", "2;b;BTC,1=0.25:2", 995),
            bid("m2", "2;b;BTC,1=0.25:1", 995),
        ];
        // m1's two workers deliver 0.25 PH each; m2's worker a tenth of its 0.25 minus one H/s.
        let ph = 1_000_000_000_000_000u128; // H/s in one PH
        let telemetry = samples(&[("m1.a", ph / 4), ("m1.b", ph / 4), ("m2.a", ph / 40 - 1)]);
        let params = AuctionParams::default();
        let r = settle_window(&WindowInputs {
            window: window(),
            commitments: &commitments,
            neurons: &neurons,
            split: 32_768,
            telemetry: &telemetry,
            params: &params,
        })
        .unwrap();
        assert_eq!(r.skipped, None);
        // 0.05 x 400 x 0.41 x (32768 / 65535) x 7200 / 50 = 64487424 / 109225, rounded down.
        assert_eq!(r.budget_ph.unwrap(), fp("590.409008926527809567"));
        assert_eq!(
            r.winners
                .iter()
                .map(|w| (w.hotkey.as_str(), w.count))
                .collect::<Vec<_>>(),
            vec![("m1", 2), ("m2", 1)]
        );
        assert_eq!(
            r.failed,
            vec![FailedWinner {
                hotkey: "m2".into(),
                uid: Some(4)
            }]
        );
        let settlement = r.settlement().unwrap();
        assert_eq!(settlement.window_blocks, 60);
        assert_eq!(
            settlement
                .payments
                .iter()
                .map(|p| p.uid)
                .collect::<Vec<_>>(),
            vec![3, 3, 4],
            "m2 delivered something: it is paid for it, and banned"
        );
    }

    /// One miner's bid breaks the bid rule (a size off the 0.01 PH grain): its commitment is
    /// refused with the reason, and everyone else wins exactly as without it. Its bid is the
    /// cheapest, so it would win if the codec let it through.
    #[test]
    fn a_bid_breaking_the_bid_rule_is_refused_and_the_window_goes_on() {
        let neurons = [
            neuron(1, "v1", 1_000, true),
            neuron(2, "v2", 1_000, true),
            neuron(3, "m1", 0, false),
            neuron(4, "m2", 0, false),
            neuron(5, "fine", 0, false),
        ];
        let honest = [
            price("v1", &[]),
            price("v2", &[]),
            bid("m1", "2;b;BTC,1=0.25:2", 995),
            bid("m2", "2;b;BTC,0.99=0.2:1;BTC,1.04=0.45:3", 995),
        ];
        let mut all = honest.to_vec();
        all.push(bid("fine", "2;b;BTC,0.5=0.2:3,0.125:4", 995));
        let params = AuctionParams::default();
        let settle = |commitments: &[PostedCommitment]| {
            settle_window(&WindowInputs {
                window: window(),
                commitments,
                neurons: &neurons,
                split: 32_768,
                telemetry: &Telemetry::default(),
                params: &params,
            })
            .unwrap()
        };
        let (with, without) = (settle(&all), settle(&honest));
        assert_eq!(
            with.refused,
            vec![RefusedBid {
                hotkey: "fine".into(),
                uid: Some(5),
                reason: "invalid bid group 0 (byte 18): hashrate 0.125 breaks the bid rule: a \
                         worker's hashrate is a whole multiple of 0.01 PH (at most 2 decimals)"
                    .into(),
            }]
        );
        assert!(without.refused.is_empty());
        assert!(with.optimal);
        assert_eq!(with.winners, without.winners);
        assert_eq!(with.payments, without.payments);
        assert_eq!(
            with.winners
                .iter()
                .map(|w| (w.hotkey.as_str(), w.count))
                .collect::<Vec<_>>(),
            vec![("m2", 1), ("m1", 2), ("m2", 3)]
        );
    }

    #[test]
    fn banned_miners_are_ignored_and_a_missing_price_skips_the_window() {
        let neurons = [
            neuron(1, "v1", 600, true),
            neuron(2, "v2", 400, true),
            neuron(5, "m", 0, false),
        ];
        // v1 (60 % of the stake) bans uid 5: strictly more than half.
        let commitments = [
            price("v1", &[5]),
            price("v2", &[]),
            bid("m", "2;b;BTC,1=0.25:1", 995),
        ];
        let params = AuctionParams::default();
        let r = settle_window(&WindowInputs {
            window: window(),
            commitments: &commitments,
            neurons: &neurons,
            split: 65_535,
            telemetry: &Telemetry::default(),
            params: &params,
        })
        .unwrap();
        assert_eq!(r.banned_at_start, vec![5]);
        assert!(r.winners.is_empty());
        // A validator without a permit does not count; no price consensus then.
        let neurons = [neuron(1, "v1", 600, false), neuron(5, "m", 0, false)];
        let r = settle_window(&WindowInputs {
            window: window(),
            commitments: &commitments,
            neurons: &neurons,
            split: 65_535,
            telemetry: &Telemetry::default(),
            params: &params,
        })
        .unwrap();
        assert!(r.skipped.is_some());
        assert!(r.settlement().is_none());
    }
}
