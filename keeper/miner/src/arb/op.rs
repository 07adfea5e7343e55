//! An operation as the arbitrageur records it: every field a later step, a restart or the P&L
//! needs, serialized whole into the store at each step.

use alloy::primitives::{B256, U256};
use serde::{Deserialize, Serialize};

use crate::evm::{SignedTx, TxOutcome};
use crate::observe::Observation;
use crate::sizing::{CreationPlan, RedemptionPlan};

/// An EVM transaction of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxRecord {
    /// The signed transaction.
    pub signed: SignedTx,
    /// Its outcome, once mined.
    pub outcome: Option<TxOutcome>,
}

/// The block of an operation's last mined EVM transaction (0: none): the premium after an
/// operation is read there or later, whatever block its substrate side finished at.
pub(crate) fn last_tx_block(txs: &[TxRecord]) -> u64 {
    txs.iter()
        .filter_map(|t| t.outcome.as_ref().map(|o| o.block))
        .max()
        .unwrap_or(0)
}

/// A stake movement of the miner's own (a purchase or a sale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakeMove {
    /// Block.
    pub block: u64,
    /// Extrinsic index.
    pub index: u32,
    /// Subnet.
    pub netuid: u16,
    /// TAO paid or received, rao.
    pub tao: u64,
    /// Alpha bought or sold, rao.
    pub alpha: u64,
    /// Swap fee.
    pub fee: u64,
}

/// Where a delivery landed and what the vault received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Landed {
    /// Block.
    pub block: u64,
    /// Extrinsic index.
    pub index: u32,
    /// Alpha per netuid (the vault's `StakeAdded` amounts).
    pub amounts: Vec<(u16, u64)>,
}

/// One position a redemption paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paid {
    /// Subnet.
    pub netuid: u16,
    /// The fund hotkey the alpha arrives under.
    pub hotkey: B256,
    /// Alpha, rao.
    pub amount: u64,
}

/// The market when an operation was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Block.
    pub block: u64,
    /// NAV per share, rao.
    #[serde(with = "tao20_creation::dec")]
    pub nav_rao: U256,
    /// The pool's price of a share, rao.
    #[serde(with = "tao20_creation::dec")]
    pub pool_price_rao: U256,
    /// Premium, bps.
    #[serde(with = "crate::sizing::i128_dec")]
    pub premium_bps: i128,
}

impl Snapshot {
    pub(crate) fn of(o: &Observation) -> Self {
        Self {
            block: o.block,
            nav_rao: o.nav.nav_per_share,
            pool_price_rao: o.pool_price_rao,
            premium_bps: o.premium_bps,
        }
    }
}

/// Profit and loss of an operation, rao.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pnl {
    /// What went in: TAO spent (alpha bought, shares bought) and alpha already held at its value.
    pub cost_rao: u64,
    /// What came back.
    pub proceeds_rao: u64,
    /// EVM gas.
    pub gas_rao: u64,
    /// The bond, when lost.
    pub bond_lost_rao: u64,
    /// `proceeds - cost - gas - bond lost`.
    #[serde(with = "crate::sizing::i128_dec")]
    pub profit_rao: i128,
}

/// A creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOp {
    /// Its step: requesting, buying, delivering, following, claiming, selling, unwinding, done.
    pub step: String,
    /// The plan.
    pub plan: CreationPlan,
    /// The market when it was decided.
    pub decided: Snapshot,
    /// The miner's request nonce at the decision.
    pub nonce: U256,
    /// The request id that nonce gives.
    pub request_id: B256,
    /// The delivery remark.
    pub remark: B256,
    /// `minSharesOut`.
    pub min_shares_out: U256,
    /// The bond, wei.
    pub bond_wei: U256,
    /// The request's block, once it exists.
    pub request_block: Option<u64>,
    /// The request's epoch.
    pub epoch_id: Option<u64>,
    /// EVM transactions.
    pub txs: Vec<TxRecord>,
    /// Alpha held under the staking hotkey before buying, per netuid (locked or not).
    pub held_before: Vec<(u16, u64)>,
    /// Alpha held under the staking hotkey that a stake lock kept out of the delivery, per
    /// netuid, at the last purchase check (bought instead).
    #[serde(default)]
    pub locked: Vec<(u16, u64)>,
    /// Its value at the spot price then, rao.
    pub held_value_rao: u64,
    /// Alpha bought.
    pub buys: Vec<StakeMove>,
    /// A purchase may have been submitted at this head and not recorded yet.
    pub buy_watch_from: Option<u64>,
    /// Failed purchase attempts.
    pub buy_failures: u32,
    /// Where the delivery landed and what the vault received.
    pub delivery: Option<Landed>,
    /// Shares minted, once minted.
    pub shares_out: Option<U256>,
    /// The request's final status (`minted`, `refunded`, `expired`, or `abandoned`).
    pub outcome: Option<String>,
    /// TAO the shares sold for, wei.
    pub sale_wei: Option<U256>,
    /// Alpha sold back.
    pub unwinds: Vec<StakeMove>,
    /// A sale may have been submitted at this head and not recorded yet.
    pub unwind_watch_from: Option<u64>,
    /// Profit and loss, when done.
    pub pnl: Option<Pnl>,
    /// The market when it was done.
    pub finished: Option<Snapshot>,
    /// Why it stopped early.
    pub note: Option<String>,
}

impl CreateOp {
    /// A creation decided at `decided`, not requested yet: `(nonce, request id, delivery remark)`
    /// of the request it will make, its `minSharesOut` and its bond (wei).
    pub fn new(
        plan: CreationPlan,
        decided: Snapshot,
        (nonce, request_id, remark): (U256, B256, B256),
        min_shares_out: U256,
        bond_wei: U256,
    ) -> Self {
        Self {
            step: "requesting".into(),
            plan,
            decided,
            nonce,
            request_id,
            remark,
            min_shares_out,
            bond_wei,
            request_block: None,
            epoch_id: None,
            txs: Vec::new(),
            held_before: Vec::new(),
            locked: Vec::new(),
            held_value_rao: 0,
            buys: Vec::new(),
            buy_watch_from: None,
            buy_failures: 0,
            delivery: None,
            shares_out: None,
            outcome: None,
            sale_wei: None,
            unwinds: Vec::new(),
            unwind_watch_from: None,
            pnl: None,
            finished: None,
            note: None,
        }
    }
}

/// A redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeemOp {
    /// Its step: buying, redeeming, unstaking, done.
    pub step: String,
    /// The plan.
    pub plan: RedemptionPlan,
    /// The market when it was decided.
    pub decided: Snapshot,
    /// EVM transactions.
    pub txs: Vec<TxRecord>,
    /// Shares bought.
    pub shares: Option<U256>,
    /// Alpha paid per position.
    pub redeemed: Option<Vec<Paid>>,
    /// Native TAO paid, wei.
    pub native_wei: Option<U256>,
    /// Alpha sold.
    pub unstakes: Vec<StakeMove>,
    /// A sale may have been submitted at this head and not recorded yet.
    pub unstake_watch_from: Option<u64>,
    /// Profit and loss, when done.
    pub pnl: Option<Pnl>,
    /// The market when it was done.
    pub finished: Option<Snapshot>,
    /// Why it stopped early.
    pub note: Option<String>,
}

/// An operation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Operation {
    /// A creation.
    Create(Box<CreateOp>),
    /// A redemption.
    Redeem(Box<RedeemOp>),
}

impl Operation {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Operation::Create(_) => "create",
            Operation::Redeem(_) => "redeem",
        }
    }

    pub(crate) fn step(&self) -> &str {
        match self {
            Operation::Create(c) => &c.step,
            Operation::Redeem(r) => &r.step,
        }
    }

    pub(crate) fn set_step(&mut self, step: &str) {
        match self {
            Operation::Create(c) => c.step = step.into(),
            Operation::Redeem(r) => r.step = step.into(),
        }
    }

    /// The current step's stake watch (the head a stake extrinsic was announced at, not yet
    /// recorded) and the moves it records: a purchase while buying, a sale while unwinding or
    /// unstaking.
    pub(crate) fn stake_watch(&mut self) -> Option<(&mut Option<u64>, &mut Vec<StakeMove>)> {
        match self {
            Operation::Create(c) => match c.step.as_str() {
                "buying" => Some((&mut c.buy_watch_from, &mut c.buys)),
                "unwinding" => Some((&mut c.unwind_watch_from, &mut c.unwinds)),
                _ => None,
            },
            Operation::Redeem(r) if r.step == "unstaking" => {
                Some((&mut r.unstake_watch_from, &mut r.unstakes))
            }
            Operation::Redeem(_) => None,
        }
    }

    pub(crate) fn txs(&self) -> &[TxRecord] {
        match self {
            Operation::Create(c) => &c.txs,
            Operation::Redeem(r) => &r.txs,
        }
    }

    pub(crate) fn txs_mut(&mut self) -> &mut Vec<TxRecord> {
        match self {
            Operation::Create(c) => &mut c.txs,
            Operation::Redeem(r) => &mut r.txs,
        }
    }

    pub(crate) fn done(&self) -> bool {
        matches!(self.step(), "done")
    }

    /// The newest block anything of this operation landed in.
    pub(crate) fn last_block(&self) -> u64 {
        let (txs, moves, delivery): (&[TxRecord], Vec<&StakeMove>, u64) = match self {
            Operation::Create(c) => (
                &c.txs,
                c.buys.iter().chain(&c.unwinds).collect(),
                c.delivery.as_ref().map_or(0, |d| d.block),
            ),
            Operation::Redeem(r) => (&r.txs, r.unstakes.iter().collect(), 0),
        };
        txs.iter()
            .filter_map(|t| t.outcome.as_ref().map(|o| o.block))
            .chain(moves.iter().map(|m| m.block))
            .fold(delivery, u64::max)
    }
}
