//! `tao20 miner status`: the creation miner's database summarised as JSON (no network).

use serde_json::{json, Value};

use crate::arb::{Operation, Pnl};
use crate::config::format_tao;
use crate::store::Store;
use crate::Result;

fn pnl_json(p: &Pnl) -> Value {
    json!({
        "cost": format_tao(i128::from(p.cost_rao)),
        "proceeds": format_tao(i128::from(p.proceeds_rao)),
        "gas": format_tao(i128::from(p.gas_rao)),
        "bondLost": format_tao(i128::from(p.bond_lost_rao)),
        "profit": format_tao(p.profit_rao),
        "profitRao": p.profit_rao.to_string(),
    })
}

/// The summary: every operation with its step, outcome and profit and loss in TAO, the totals,
/// the delivery intents, and the last observation of NAV and the pool's price.
pub fn status(store: &Store) -> Result<Value> {
    let mut ops = Vec::new();
    let mut total: i128 = 0;
    let (mut creations, mut minted, mut redemptions) = (0u64, 0u64, 0u64);
    for s in store.ops()? {
        let op: Option<Operation> = serde_json::from_value(s.record.clone()).ok();
        let entry = match &op {
            Some(Operation::Create(c)) => {
                creations += 1;
                if c.outcome.as_deref() == Some("minted") {
                    minted += 1;
                }
                if let Some(p) = &c.pnl {
                    total += p.profit_rao;
                }
                json!({
                    "id": s.id, "kind": "create", "step": c.step, "done": s.done,
                    "requestId": c.request_id.to_string(), "units": c.plan.units,
                    "outcome": c.outcome, "sharesOut": c.shares_out.map(|x| x.to_string()),
                    "expectedProfit": format_tao(c.plan.profit_rao),
                    "premiumBeforeBps": c.decided.premium_bps.to_string(),
                    "premiumAfterBps": c.finished.as_ref().map(|f| f.premium_bps.to_string()),
                    "pnl": c.pnl.as_ref().map(pnl_json), "note": c.note,
                    "locked": c.locked.iter().map(|(n, a)| json!({
                        "netuid": n, "alpha": a.to_string(),
                    })).collect::<Vec<_>>(),
                    "startedBlock": s.started_block, "updatedBlock": s.updated_block,
                })
            }
            Some(Operation::Redeem(r)) => {
                redemptions += 1;
                if let Some(p) = &r.pnl {
                    total += p.profit_rao;
                }
                json!({
                    "id": s.id, "kind": "redeem", "step": r.step, "done": s.done,
                    "spend": format_tao(i128::from(r.plan.spend_rao)),
                    "shares": r.shares.map(|x| x.to_string()),
                    "paid": r.redeemed.as_ref().map(|paid| paid.iter().map(|p| json!({
                        "netuid": p.netuid, "alpha": p.amount.to_string(),
                    })).collect::<Vec<_>>()),
                    "sold": r.unstakes.iter().map(|u| json!({
                        "netuid": u.netuid, "alpha": u.alpha.to_string(),
                        "tao": format_tao(i128::from(u.tao)),
                    })).collect::<Vec<_>>(),
                    "expectedProfit": format_tao(r.plan.profit_rao),
                    "premiumBeforeBps": r.decided.premium_bps.to_string(),
                    "premiumAfterBps": r.finished.as_ref().map(|f| f.premium_bps.to_string()),
                    "pnl": r.pnl.as_ref().map(pnl_json), "note": r.note,
                    "startedBlock": s.started_block, "updatedBlock": s.updated_block,
                })
            }
            None => json!({"id": s.id, "kind": s.kind, "step": s.state, "unreadable": true}),
        };
        ops.push(entry);
    }
    let (intents, landed) = store.delivery_counts()?;
    Ok(json!({
        "operations": ops,
        "creations": creations,
        "minted": minted,
        "redemptions": redemptions,
        "deliveries": {"intents": intents, "landed": landed},
        "totalProfit": format_tao(total),
        "totalProfitRao": total.to_string(),
        "lastObservation": store.observation()?,
    }))
}
