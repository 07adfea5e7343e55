//! Replay: every recorded block's decision computed again from its record and compared with
//! what the keeper committed (`tao20 validator replay --db`).
//!
//! A block's record is its [`BlockInputs`](crate::engine::BlockInputs) and the decision
//! parameters; with the creation state of the block before it (`state_history`), the pure
//! [`decide`] must give the state the keeper committed for the block, and the reports it
//! journaled at the block. A difference means the decision depended on something outside its
//! inputs (a clock, a configuration read, an input order), which two keepers could see
//! differently.
//!
//! The mechanisms are replayed the same way: each block's [`MechRecord`] (their inputs and
//! parameters) and their state before the block must give the state committed after it, the
//! windows stored as settled at the block, the weights stored for each (mechanism, epoch) it
//! decided and the price commitment stored at the block. A block with no mechanisms record
//! (they are off, or failed there) must have left their state as it was.

use alloy_primitives::B256;
use rusqlite::Connection;
use serde::Serialize;

use crate::engine::decide::{decide, Outcome};
use crate::engine::{CreationState, Recorded};
use crate::mechanisms::{self, MechOutcome, MechRecord, MechState};
use crate::store::mechanisms as stored;
use crate::store::state as tables;
use crate::store::subtensor;
use crate::store::{from_json, journal, reports, to_json};
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
    /// Blocks whose mechanisms decision was made again and compared.
    pub mechanism_blocks: u64,
    /// Whether the replayed blocks are every block the keeper processed: from its first block,
    /// with no gap (a record kept for fewer blocks than the keeper ran is not).
    pub whole: bool,
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
                let again = value("replayed state", &decision.state)?;
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
        if let Some(before) = tables::history(conn, "mechanisms", b - 1)? {
            let mut found = Vec::new();
            if rec.mechanisms.is_some() {
                out.mechanism_blocks += 1;
            }
            mechanisms_again(conn, b, &before, rec.mechanisms.as_ref(), &mut found)?;
            out.mismatches
                .extend(found.into_iter().map(|what| Mismatch { block: b, what }));
        }
        out.blocks += 1;
        out.range = Some((out.range.map_or(b, |r| r.0), b));
    }
    out.whole = match (out.range, tables::first_block(conn)?) {
        (Some((first, last)), Some(start)) => {
            first == start && out.skipped == 0 && out.blocks == last - first + 1
        }
        _ => false,
    };
    Ok(out)
}

/// Decides block `b`'s mechanisms again from the state before it and compares with what was
/// committed; each difference is pushed to `miss`.
fn mechanisms_again(
    conn: &Connection,
    b: u64,
    before: &str,
    record: Option<&MechRecord>,
    miss: &mut Vec<String>,
) -> Result<()> {
    let committed: serde_json::Value = match tables::history(conn, "mechanisms", b)? {
        Some(text) => from_json(&format!("mechanisms state after block {b}"), &text)?,
        None => {
            miss.push("no committed mechanisms state for the block".into());
            return Ok(());
        }
    };
    let state: MechState = from_json(&format!("mechanisms state after block {}", b - 1), before)?;
    let Some(record) = record else {
        let unchanged = value("mechanisms state", &state)?;
        if committed != unchanged {
            miss.push(format!(
                "the mechanisms' state moved at a block with no mechanisms record: {}",
                first_difference(&unchanged, &committed, "")
            ));
        }
        return Ok(());
    };
    let (again, decided) = match mechanisms::decide(&state, b, &record.inputs, &record.params) {
        Ok(MechOutcome::Decided(decided)) => *decided,
        Ok(MechOutcome::Needs(n)) => {
            miss.push(format!(
                "the record lacks inputs the mechanisms' decision needs: {n:?}"
            ));
            return Ok(());
        }
        Err(e) => {
            miss.push(format!("deciding the mechanisms again failed: {e}"));
            return Ok(());
        }
    };
    let again = value("replayed mechanisms state", &again)?;
    if committed != again {
        miss.push(format!(
            "the mechanisms' state differs: {}",
            first_difference(&committed, &again, "")
        ));
    }
    let mut stored_windows = Vec::new();
    for (start, text) in stored::windows_settled_at(conn, b)? {
        let v: serde_json::Value = from_json(&format!("window {start}"), &text)?;
        stored_windows.push((start, v));
    }
    let mut replayed_windows = Vec::new();
    for w in &decided.windows {
        let text = to_json("replayed window", w)?;
        let v: serde_json::Value = from_json("replayed window", &text)?;
        replayed_windows.push((w.window.start, v));
    }
    if stored_windows != replayed_windows {
        let starts = |ws: &[(u64, serde_json::Value)]| ws.iter().map(|w| w.0).collect::<Vec<_>>();
        miss.push(
            match stored_windows
                .iter()
                .zip(&replayed_windows)
                .find(|(a, r)| a != r)
            {
                Some((a, r)) if a.0 == r.0 => format!(
                    "window {} settles otherwise: {}",
                    a.0,
                    first_difference(&a.1, &r.1, "")
                ),
                _ => format!(
                    "windows settled: stored {:?}, replayed {:?}",
                    starts(&stored_windows),
                    starts(&replayed_windows)
                ),
            },
        );
    }
    for (mecid, epoch, uids, values) in &decided.weights {
        match subtensor::weights(conn, *mecid, *epoch)? {
            Some(w) if &w.uids == uids && &w.values == values => {}
            Some(w) => miss.push(format!(
                "mechanism {mecid}'s weights of epoch {epoch}: stored {:?} {:?}, replayed {uids:?} {values:?}",
                w.uids, w.values
            )),
            None => miss.push(format!(
                "mechanism {mecid}'s weights of epoch {epoch} were decided again but not stored"
            )),
        }
    }
    let stored_commitment = subtensor::commitment(conn, b)?.map(|c| c.payload);
    let replayed = decided
        .commitment
        .as_ref()
        .map(alloy_primitives::hex::encode);
    if stored_commitment != replayed {
        miss.push(format!(
            "the price commitment: stored {stored_commitment:?}, replayed {replayed:?}"
        ));
    }
    Ok(())
}

fn value<T: Serialize>(what: &str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|source| Error::Json {
        what: what.into(),
        source,
    })
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
