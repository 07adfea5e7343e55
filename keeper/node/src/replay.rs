//! Replay: every recorded block's decision computed again from its record and compared with
//! what the keeper committed (`tao20 validator replay --db`).
//!
//! A block's record is its [`BlockInputs`](crate::engine::BlockInputs) and the decision
//! parameters; with the creation state of the block before it (`state_history`), the pure
//! [`decide`] must give the state the keeper committed for the block, and the reports it
//! journaled at the block. A difference means the decision depended on something outside its
//! inputs (a clock, a configuration read, an input order), which two keepers could see
//! differently. The mechanisms' step still reads the chain while it decides and is not replayed.

use alloy_primitives::B256;
use rusqlite::Connection;
use serde::Serialize;

use crate::engine::decide::{decide, Outcome};
use crate::engine::{CreationState, Recorded};
use crate::store::from_json;
use crate::store::state as tables;
use crate::store::{journal, reports};
use crate::{Error, Result};

/// One block whose replayed decision differs from the committed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The block.
    pub block: u64,
    /// What differs.
    pub what: String,
}

/// The outcome of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    /// Blocks decided again and compared.
    pub blocks: u64,
    /// The first and last of them.
    pub range: Option<(u64, u64)>,
    /// Recorded blocks whose previous state the history no longer keeps.
    pub skipped: u64,
    /// Reports compared.
    pub reports: u64,
    /// Differences.
    pub mismatches: Vec<Mismatch>,
}

/// Replays every recorded block of the database.
pub fn replay(conn: &Connection) -> Result<Replayed> {
    let mut out = Replayed::default();
    for (b, text) in tables::recorded(conn)? {
        let Some(before) = tables::history(conn, "creation", b.saturating_sub(1))? else {
            out.skipped += 1;
            continue;
        };
        let mut miss = |what: String| out.mismatches.push(Mismatch { block: b, what });
        let rec: Recorded = from_json(&format!("recorded inputs of block {b}"), &text)?;
        let state: CreationState =
            from_json(&format!("creation state after block {}", b - 1), &before)?;
        let decision = match decide(&state, &rec.inputs, &rec.params) {
            Ok(Outcome::Decided(d)) => d,
            Ok(Outcome::Needs(n)) => {
                miss(format!("the record lacks inputs the decision needs: {n:?}"));
                continue;
            }
            Err(e) => {
                miss(format!("deciding again failed: {e}"));
                continue;
            }
        };
        match tables::history(conn, "creation", b)? {
            None => miss("no committed state for the block".into()),
            Some(committed) => {
                let committed: serde_json::Value =
                    from_json(&format!("creation state after block {b}"), &committed)?;
                let again =
                    serde_json::to_value(&decision.state).map_err(|source| Error::Json {
                        what: "replayed state".into(),
                        source,
                    })?;
                if committed != again {
                    miss(format!(
                        "the state differs: {}",
                        first_difference(&committed, &again, "")
                    ));
                }
            }
        }
        let decided: Vec<B256> = decision
            .signs
            .iter()
            .map(|m| m.digest(rec.params.chain_id, rec.params.contract))
            .collect();
        for d in reports::created_at(conn, b)? {
            if !decided.contains(&d) {
                miss(format!("report {d} was journaled but not decided again"));
            }
        }
        let mut unjournaled = 0u64;
        for d in &decided {
            out.reports += 1;
            if reports::report(conn, d)?.is_none() {
                unjournaled += 1;
            }
        }
        // The journal refuses other content for a signed subject, and says so at the block.
        if unjournaled > journal::refusals_at(conn, b)? {
            miss(format!(
                "{unjournaled} decided report(s) neither journaled nor refused"
            ));
        }
        out.blocks += 1;
        out.range = Some((out.range.map_or(b, |r| r.0), b));
    }
    Ok(out)
}

/// The path of the first difference between two JSON values, for the mismatch message.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) if w == v => {}
                    Some(w) => return first_difference(v, w, &format!("{path}.{k}")),
                    None => return format!("{path}.{k} is missing from the replay"),
                }
            }
            match y.keys().find(|k| !x.contains_key(*k)) {
                Some(k) => format!("{path}.{k} appears only in the replay"),
                None => format!("{path}: same keys, other values"),
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (n, (v, w)) in x.iter().zip(y).enumerate() {
                if v != w {
                    return first_difference(v, w, &format!("{path}[{n}]"));
                }
            }
            format!("{path}: equal arrays")
        }
        _ => format!("{path}: committed {a}, replayed {b}"),
    }
}
