//! Reading back what happened — from anvil, the simulator and every keeper's database — and
//! checking every expectation of the scenario.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use alloy::consensus::Transaction as _;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use tao20_bevm::bindings::TAO20;
use tao20_bevm::events::ContractEvent;
use tao20_bevm::reader::Reader;
use tao20_chain::Subtensor as _;
use tao20_creation::eip712::Eip712Message;
use tao20_devnet::keepers;
use tao20_devnet::up::DevnetFile;
use tao20_node::store::Store;

use crate::report::{
    AmountRow, AssetRow, ClientRow, CreationRow, EpochRow, GasRow, KeeperRow, MintLatency,
    NodeLoad, Params, RedemptionRow, Report, WeightRow, WindowRow,
};
use crate::scenario::{self, Run, CUT_KEEPER, KEEPERS, KILLED_KEEPER};
use crate::{step, Result};

/// A transaction to the fund.
#[derive(Debug, Clone)]
struct FundTx {
    block: u64,
    from: Address,
    call: &'static str,
    subject: String,
    gas: u64,
    ok: bool,
    signatures: Vec<Vec<u8>>,
}

fn db(run: &Run, i: usize) -> PathBuf {
    keepers::keeper_dir(&run.file.options.dir, i).join("keeper.sqlite")
}

fn open(run: &Run, i: usize) -> Option<Store> {
    Store::open_read_only(&db(run, i)).ok()
}

fn rows<T>(s: &Store, sql: &str, f: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Vec<T> {
    s.conn()
        .prepare(sql)
        .and_then(|mut st| st.query_map([], |r| f(r)).map(|it| it.flatten().collect()))
        .unwrap_or_default()
}

async fn fund_txs(reader: &Reader, tao20: Address, from: u64, to: u64) -> Result<Vec<FundTx>> {
    let p = reader.provider();
    let mut out = Vec::new();
    for b in from..=to {
        let Some(block) = p
            .get_block_by_number(BlockNumberOrTag::Number(b))
            .full()
            .await
            .map_err(|e| step(format!("block {b}"), e))?
        else {
            continue;
        };
        for tx in block.transactions.txns() {
            if tx.to() != Some(tao20) {
                continue;
            }
            let input = tx.input();
            let (call, subject, signatures) = if let Ok(c) = TAO20::mintCall::abi_decode(input) {
                (
                    "mint",
                    format!("request:{}", c.report.requestId),
                    c.signatures.iter().map(|s| s.to_vec()).collect(),
                )
            } else if let Ok(c) = TAO20::refundCall::abi_decode(input) {
                (
                    "refund",
                    format!(
                        "refund:{}:{}",
                        c.report.deliveryBlock, c.report.deliveryIndex
                    ),
                    c.signatures.iter().map(|s| s.to_vec()).collect(),
                )
            } else if let Ok(c) = TAO20::publishEpochCall::abi_decode(input) {
                (
                    "publishEpoch",
                    format!("epoch:{}", c.file.epochId),
                    c.signatures.iter().map(|s| s.to_vec()).collect(),
                )
            } else if TAO20::requestCreationCall::abi_decode(input).is_ok() {
                ("requestCreation", String::new(), Vec::new())
            } else if TAO20::redeemCall::abi_decode(input).is_ok() {
                ("redeem", String::new(), Vec::new())
            } else if TAO20::transferCall::abi_decode(input).is_ok() {
                ("transfer", String::new(), Vec::new())
            } else {
                ("other", String::new(), Vec::new())
            };
            let hash = *tx.inner.tx_hash();
            let receipt = p
                .get_transaction_receipt(hash)
                .await
                .map_err(|e| step(format!("receipt {hash}"), e))?;
            let (gas, ok) = receipt.map_or((0, false), |r| (r.gas_used, r.status()));
            out.push(FundTx {
                block: b,
                from: tx.inner.signer(),
                call,
                subject,
                gas,
                ok,
                signatures,
            });
        }
    }
    Ok(out)
}

/// Each keeper and miner process's client, from its log and (keepers) its metrics.
async fn clients(run: &Run) -> Vec<ClientRow> {
    let logs = run.file.options.dir.join("logs");
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".log").map(str::to_string))
                .filter(|n| n.starts_with("validator-") || n.starts_with("miner-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let text = std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap_or_default();
        let connected = text
            .lines()
            .find(|l| l.contains("subtensor client connected (SubxtClient)"));
        let endpoint = connected
            .and_then(|l| l.split("ws://").nth(1))
            .and_then(|rest| rest.split(|c: char| c == '"' || c.is_whitespace()).next())
            .map(|e| format!("ws://{e}"))
            .unwrap_or_default();
        let metrics = match name.strip_prefix("validator-").and_then(|i| i.parse().ok()) {
            Some(i) => keeper_metrics(&run.file, i).await,
            None => BTreeMap::new(),
        };
        out.push(ClientRow {
            process: name,
            client: if connected.is_some() {
                "SubxtClient".into()
            } else {
                "none seen".into()
            },
            endpoint,
            requests: metrics.get("tao20_subtensor_requests_total").copied(),
            blocks: metrics.get("tao20_blocks_processed_total").copied(),
        });
    }
    out
}

/// A keeper's counters from its `/metrics` (empty if it does not answer).
pub(crate) async fn keeper_metrics(file: &DevnetFile, i: usize) -> BTreeMap<String, u64> {
    keepers::metrics(file, i, std::time::Duration::from_secs(5))
        .await
        .unwrap_or_default()
}

/// Everything read from the chains and the keepers, with the checks: the devnet must still be
/// up (the scenario calls this before tearing it down).
pub async fn gather(run: &Run, quick: bool) -> Result<Report> {
    let f = &run.file;
    let reader = Reader::new(tao20_bevm::rpc::connect(&f.anvil_rpc)?, &f.deployment()?);
    let mut r = Report {
        params: Params {
            epoch_length: f.options.epoch_length,
            block_time_ms: f.options.block_time_ms,
            seed: f.options.seed,
            tempo: f.options.tempo,
            price_window: f.options.price_window,
            keepers: KEEPERS,
            faulty_keepers: f.options.faulty_validators,
            subnets: f.options.subnets,
            quick,
            first_block: run.first_block,
            last_block: run.last_block,
            wall_secs: run.wall_secs,
        },
        nav: run.nav.clone(),
        market: run.market.clone(),
        faults: run.faults.clone(),
        ..Report::default()
    };
    for p in &run.problems {
        r.check("scenario step", false, p.clone());
    }
    r.arbitrageur = run.arbitrageur.as_ref().and_then(|cfg| {
        let out = std::process::Command::new(&f.options.tao20_bin)
            .args(["miner", "status", "--config"])
            .arg(cfg)
            .output()
            .ok()?;
        serde_json::from_slice(&out.stdout).ok()
    });
    let head = reader.head().await?;
    let signers: Vec<Address> = f.keys.signers.iter().map(|s| s.evm.address).collect();
    let faulty: BTreeSet<usize> = (KEEPERS - f.options.faulty_validators..KEEPERS).collect();
    let name_of = |a: &Address| -> String {
        signers
            .iter()
            .position(|s| s == a)
            .map_or_else(|| a.to_string(), |i| format!("validator-{i}"))
    };

    // The keepers.
    let stores: Vec<Option<Store>> = (0..KEEPERS).map(|i| open(run, i)).collect();
    for (i, s) in stores.iter().enumerate() {
        let summary = s
            .as_ref()
            .and_then(|s| tao20_node::store::status::summary(s).ok())
            .unwrap_or(serde_json::Value::Null);
        let txs = s.as_ref().map_or(0, |s| {
            rows(
                s,
                "SELECT COUNT(*) FROM transactions WHERE state = 'included'",
                |x| x.get::<_, i64>(0),
            )
            .first()
            .copied()
            .unwrap_or(0)
        });
        r.keepers.push(KeeperRow {
            name: format!("validator-{i}"),
            signer: signers[i].to_string(),
            faulty: faulty.contains(&i),
            restarts: run.restarts[i],
            signed: summary["journal"]["signed"].as_u64().unwrap_or(0),
            refused: summary["journal"]["refused"].as_u64().unwrap_or(0),
            txs: u64::try_from(txs).unwrap_or(0),
            cursor: summary["nextBlock"].as_u64().unwrap_or(0),
        });
    }

    // How every keeper and miner reached subtensor: its own log names the client it connected
    // with; a keeper's metrics count its requests and blocks.
    r.clients = clients(run).await;
    let [(req0, head0), (req1, head1)] = run.node_requests;
    r.node_load = NodeLoad {
        requests: req1.saturating_sub(req0),
        blocks: head1.saturating_sub(head0),
    };
    let off: Vec<&str> = r
        .clients
        .iter()
        .filter(|c| c.client != "SubxtClient")
        .map(|c| c.process.as_str())
        .collect();
    r.check(
        "every keeper and miner reached subtensor through SubxtClient",
        off.is_empty() && r.clients.len() > KEEPERS,
        if off.is_empty() {
            format!(
                "{} processes on {}; the node served {} requests over {} blocks",
                r.clients.len(),
                f.substrate,
                r.node_load.requests,
                r.node_load.blocks
            )
        } else {
            format!("no SubxtClient connection in the log of {off:?}")
        },
    );

    // Transactions to the fund during the run.
    let txs = fund_txs(&reader, f.tao20, run.first_block.min(f.deploy_block), head).await?;
    let mut gas: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for t in &txs {
        let g = gas.entry(t.call).or_default();
        g.0 += 1;
        g.1 += t.gas;
    }
    r.gas = gas
        .into_iter()
        .map(|(call, (count, gas))| GasRow {
            call: call.to_string(),
            count,
            gas,
        })
        .collect();

    // Events.
    let logs = reader.logs(f.deploy_block, head).await?;
    let mut minted = BTreeMap::new();
    let mut refunded: BTreeMap<B256, u64> = BTreeMap::new();
    for l in &logs {
        match &l.event {
            ContractEvent::EpochPublished { epoch_id, .. } => {
                // An unreadable file still lists its epoch (without assets).
                let file = reader.creation_file(*epoch_id, head).await.ok().flatten();
                let from = txs
                    .iter()
                    .find(|t| t.call == "publishEpoch" && t.subject == format!("epoch:{epoch_id}"))
                    .map(|t| t.from);
                r.epochs.push(EpochRow {
                    epoch_id: *epoch_id,
                    published_block: l.block,
                    publisher: from.map_or_else(
                        || "devnet".into(),
                        |a| {
                            if signers.contains(&a) {
                                name_of(&a)
                            } else {
                                "devnet".into()
                            }
                        },
                    ),
                    assets: file
                        .map(|c| {
                            c.assets
                                .iter()
                                .map(|a| AssetRow {
                                    netuid: a.netuid,
                                    weight_bps: u32::from(a.weight_bps),
                                    qty_per_unit: a.qty_per_unit.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
            ContractEvent::CreationMinted(m) => {
                minted.insert(m.request_id, (m.clone(), l.tx_hash));
            }
            ContractEvent::Refunded { request_id, .. } => {
                refunded.entry(*request_id).or_insert(l.block);
            }
            ContractEvent::Redeemed {
                holder,
                shares,
                amounts,
                ..
            } => {
                let fund = reader.fund(l.block).await?;
                let mut rows: Vec<AmountRow> = fund
                    .positions
                    .iter()
                    .zip(amounts.iter())
                    .map(|(p, a)| AmountRow {
                        netuid: p.netuid,
                        amount: a.to_string(),
                    })
                    .collect();
                if let Some(native) = amounts.get(fund.positions.len()) {
                    rows.push(AmountRow {
                        netuid: 0,
                        amount: native.to_string(),
                    });
                }
                r.redemptions.push(RedemptionRow {
                    holder: holder.to_string(),
                    shares: shares.to_string(),
                    block: l.block,
                    amounts: rows,
                });
            }
            _ => {}
        }
    }

    // Creations, with the landed reports' signers recovered from the transactions.
    let honest: Vec<usize> = (0..KEEPERS).filter(|i| !faulty.contains(i)).collect();
    let honest_db = &stores[honest[0]];
    for p in &run.creations {
        let info = reader.request(p.request_id, head).await?;
        let subject = format!("request:{}", p.request_id);
        let report_msg = honest_db.as_ref().and_then(|s| {
            rows(
                s,
                &format!(
                    "SELECT digest, message FROM reports WHERE subject = '{subject}' AND kind = 'CreationReport'"
                ),
                |x| Ok((x.get::<_, String>(0)?, x.get::<_, String>(1)?)),
            )
            .into_iter()
            .next()
        });
        let mut row = CreationRow {
            request_id: p.request_id.to_string(),
            miner: p.miner.clone(),
            units: p.units,
            status: info
                .as_ref()
                .map_or("unknown".into(), |i| format!("{:?}", i.status)),
            note: p.note.clone(),
            request_block: info.as_ref().map_or(0, |i| i.request_block),
            delivery_block: p.delivery_block,
            ..CreationRow::default()
        };
        if let Some((m, _tx)) = minted.get(&p.request_id) {
            row.settled_block = Some(m.block);
            row.value_rao = Some(m.value_rao.to_string());
            row.shares_out = Some(m.shares_out.to_string());
            let mine: Vec<&FundTx> = txs
                .iter()
                .filter(|t| t.call == "mint" && t.subject == subject)
                .collect();
            row.txs = mine.len() as u64;
            row.gas_used = mine.iter().map(|t| t.gas).sum();
            if let Some((digest, msg)) = &report_msg {
                if let Ok(Eip712Message::CreationReport(cr)) = serde_json::from_str(msg) {
                    row.nav_per_share = Some(cr.nav_per_share.to_string());
                }
                if let (Ok(d), Some(t)) = (digest.parse::<B256>(), mine.iter().find(|t| t.ok)) {
                    row.signers = t
                        .signatures
                        .iter()
                        .map(|s| {
                            tao20_creation::signing::recover(&d, s)
                                .map_or_else(|e| format!("unrecoverable: {e}"), |a| name_of(&a))
                        })
                        .collect();
                }
            }
        } else if let Some(b) = refunded.get(&p.request_id) {
            row.settled_block = Some(*b);
            let mine: Vec<&FundTx> = txs
                .iter()
                .filter(|t| t.call == "refund" && t.block == *b)
                .collect();
            row.txs = mine.len() as u64;
            row.gas_used = mine.iter().map(|t| t.gas).sum();
        }
        r.creations.push(row);
    }
    r.mint_latency = MintLatency::of(
        r.creations
            .iter()
            .filter(|c| c.status == "Minted" && c.delivery_block > 0)
            .filter_map(|c| c.settled_block.map(|s| s.saturating_sub(c.delivery_block)))
            .collect(),
    );

    // Agreement of the journals: one content per subject among honest keepers.
    let journals: Vec<BTreeMap<String, String>> = stores
        .iter()
        .map(|s| {
            s.as_ref().map_or_else(BTreeMap::new, |s| {
                rows(s, "SELECT subject, content_hash FROM journal", |x| {
                    Ok((x.get::<_, String>(0)?, x.get::<_, String>(1)?))
                })
                .into_iter()
                .collect()
            })
        })
        .collect();
    let mut subjects: BTreeSet<&String> = BTreeSet::new();
    for j in &journals {
        subjects.extend(j.keys());
    }
    for subject in subjects {
        let contents: BTreeSet<&String> = honest
            .iter()
            .filter_map(|i| journals[*i].get(subject))
            .collect();
        let signed_by = honest
            .iter()
            .filter(|i| journals[**i].contains_key(subject))
            .count();
        if signed_by >= 2 {
            r.agreement.reports += 1;
            if contents.len() > 1 {
                r.agreement.honest_disagreements += 1;
            }
        }
        for fi in &faulty {
            if let Some(c) = journals[*fi].get(subject) {
                if !contents.is_empty() && !contents.contains(c) {
                    r.agreement.faulty_disagreements += 1;
                }
            }
        }
    }

    // The auction and the weights, as the first honest keeper settled and submitted them.
    if let Some(s) = honest_db {
        for (result,) in rows(s, "SELECT result FROM windows ORDER BY start", |x| {
            Ok((x.get::<_, String>(0)?,))
        }) {
            let Ok(w) = serde_json::from_str::<serde_json::Value>(&result) else {
                continue;
            };
            let mut spend = tao20_core::Fp18::ZERO;
            let winners = w["winners"]
                .as_array()
                .map(|ws| {
                    ws.iter()
                        .map(|x| {
                            let hr = tao20_core::Fp18::parse(x["hashrate"].as_str().unwrap_or("0"))
                                .unwrap_or(tao20_core::Fp18::ZERO);
                            let n = x["count"].as_u64().unwrap_or(0);
                            for _ in 0..n {
                                spend = spend.checked_add(hr).unwrap_or(spend);
                            }
                            format!(
                                "{}:{}x{}@{}",
                                x["uid"],
                                x["hashrate"].as_str().unwrap_or("?"),
                                n,
                                x["price"].as_str().unwrap_or("?")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let uids = |k: &str| -> Vec<u64> {
                w[k].as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_u64().or_else(|| x["uid"].as_u64()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            r.windows.push(WindowRow {
                epoch_start: w["window"]["subnet_epoch_start"].as_u64().unwrap_or(0),
                index: w["window"]["index"].as_u64().unwrap_or(0),
                start: w["window"]["start"].as_u64().unwrap_or(0),
                end: w["window"]["end"].as_u64().unwrap_or(0),
                budget_ph: w["budgetPh"].as_str().map(str::to_string),
                spend_ph: spend.to_string(),
                winners,
                banned: uids("bannedAtStart"),
                failed: uids("failed"),
                skipped: w["skipped"].as_str().map(str::to_string),
                delivery_skipped: w["deliverySkipped"] == true,
            });
        }
        // The burn uid, as every keeper derives it (the owner coldkey's first neuron).
        let sim = f.simulator();
        let burn_uid = match async {
            let at = sim.finalized_head().await?.number;
            sim.burn_uid(at, f.tao20_netuid).await
        }
        .await
        {
            Ok(u) => u.map(u64::from),
            Err(e) => {
                r.check("scenario step", false, format!("burn uid not read: {e}"));
                None
            }
        };
        for (mecid, epoch, uids, values, commit, reveal, status, detail) in rows(
            s,
            "SELECT mecid, epoch_block, uids, weight_values, commit_block, reveal_block, status, detail FROM weights ORDER BY epoch_block, mecid",
            |x| {
                Ok((
                    x.get::<_, i64>(0)?,
                    x.get::<_, i64>(1)?,
                    x.get::<_, String>(2)?,
                    x.get::<_, String>(3)?,
                    x.get::<_, Option<i64>>(4)?,
                    x.get::<_, Option<i64>>(5)?,
                    x.get::<_, String>(6)?,
                    x.get::<_, Option<String>>(7)?,
                ))
            },
        ) {
            let list = |t: &str| -> Vec<u64> { serde_json::from_str(t).unwrap_or_default() };
            let (uids, weights) = (list(&uids), list(&values));
            r.weights.push(WeightRow {
                mechanism: u8::try_from(mecid).unwrap_or(u8::MAX),
                epoch: u64::try_from(epoch).unwrap_or(0),
                commit_block: commit.and_then(|c| u64::try_from(c).ok()),
                reveal_block: reveal.and_then(|c| u64::try_from(c).ok()),
                burn_bps: burn_uid.and_then(|b| burn_share_bps(&uids, &weights, b)),
                uids,
                weights,
                matches_on_chain: status == "matched",
                status,
                detail,
            });
        }
    }

    checks(run, &mut r, &txs, &faulty, head);
    Ok(r)
}

#[allow(clippy::too_many_lines)]
fn checks(run: &Run, r: &mut Report, txs: &[FundTx], faulty: &BTreeSet<usize>, head: u64) {
    let f = &run.file;
    let statuses: BTreeMap<String, String> = r
        .creations
        .iter()
        .map(|c| (c.note.clone(), c.status.clone()))
        .collect();
    let status_of = |note: &str| {
        statuses
            .get(note)
            .cloned()
            .unwrap_or_else(|| "missing".into())
    };
    let full: Vec<&crate::report::CreationRow> = r
        .creations
        .iter()
        .filter(|c| {
            run.creations
                .iter()
                .any(|p| p.full && p.request_id.to_string() == c.request_id)
        })
        .collect();
    let all_minted = !full.is_empty() && full.iter().all(|c| c.status == "Minted");
    let detail = full
        .iter()
        .map(|c| format!("{} ({}): {}", c.miner, c.note, c.status))
        .collect::<Vec<_>>()
        .join("; ");
    r.check("every full delivery minted", all_minted, detail);
    let inc = status_of("incomplete basket");
    r.check("the incomplete basket was refunded", inc == "Refunded", inc);

    // The faulty keeper: outvoted, and never in a landed report.
    let faulty_addrs: BTreeSet<String> = faulty.iter().map(|i| format!("validator-{i}")).collect();
    let in_mint = r
        .creations
        .iter()
        .filter(|c| c.signers.iter().any(|s| faulty_addrs.contains(s)))
        .count();
    let signed_ok = r
        .creations
        .iter()
        .filter(|c| c.status == "Minted")
        .all(|c| !c.signers.is_empty() && c.signers.iter().all(|s| s.starts_with("validator-")));
    r.check(
        "the faulty keeper's signature is in no landed mint",
        in_mint == 0 && signed_ok,
        format!(
            "{in_mint} mints carry it; every landed mint's signatures recover to current signers: {signed_ok}"
        ),
    );
    r.check(
        "the faulty keeper was outvoted",
        r.agreement.faulty_disagreements > 0 && all_minted,
        format!(
            "it signed {} subjects with a content no honest keeper signed; the honest quorum minted anyway",
            r.agreement.faulty_disagreements
        ),
    );
    r.check(
        "honest keepers never disagreed",
        r.agreement.honest_disagreements == 0 && r.agreement.reports > 0,
        format!(
            "{} subjects signed by two or more honest keepers, {} with different contents",
            r.agreement.reports, r.agreement.honest_disagreements
        ),
    );
    let refused: u64 = r
        .keepers
        .iter()
        .filter(|k| !k.faulty)
        .map(|k| k.refused)
        .sum();
    r.check(
        "no honest journal refused a second content",
        refused == 0,
        format!("{refused} refusals"),
    );

    // Exactly one transaction per report.
    let mut per: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for t in txs
        .iter()
        .filter(|t| !t.subject.is_empty() && t.block > run.first_block)
    {
        *per.entry((t.call, t.subject.as_str())).or_default() += 1;
    }
    let dup: Vec<String> = per
        .iter()
        .filter(|(_, n)| **n != 1)
        .map(|((c, s), n)| format!("{c} {s}: {n}"))
        .collect();
    r.check(
        "exactly one on-chain transaction per report",
        dup.is_empty() && !per.is_empty(),
        if dup.is_empty() {
            format!("{} reports, one transaction each", per.len())
        } else {
            dup.join("; ")
        },
    );

    // The creation epoch the keepers published themselves.
    let by_keepers = r
        .epochs
        .iter()
        .filter(|e| e.publisher.starts_with("validator-"))
        .map(|e| e.epoch_id)
        .collect::<Vec<_>>();
    r.check(
        "the keepers published a creation epoch",
        !by_keepers.is_empty(),
        format!("epochs published by keepers: {by_keepers:?}"),
    );

    // The kill and the outage.
    let killed = &r.keepers[KILLED_KEEPER];
    let kill_note = status_of("keeper killed mid-creation");
    r.check(
        "the killed keeper restarted and the creation settled",
        killed.restarts >= 1 && kill_note == "Minted" && killed.refused == 0,
        format!(
            "restarts {}, request {kill_note}, its journal refused {}",
            killed.restarts, killed.refused
        ),
    );
    let cut = &r.keepers[CUT_KEEPER];
    let outage_note = status_of("during an RPC outage");
    let lead = r.keepers.iter().map(|k| k.cursor).max().unwrap_or(0);
    let behind = lead.saturating_sub(cut.cursor);
    r.check(
        "the keeper cut off its RPC caught up",
        outage_note == "Minted" && cut.cursor > 0 && behind <= 30,
        format!(
            "request during the outage {outage_note}; its next block {} is {behind} behind the furthest keeper's (head {head})",
            cut.cursor
        ),
    );

    // The price manipulation stayed inside the TWAP rule.
    let name = "a price manipulation moved the valuation only as the mean-of-window rule allows";
    match &run.manipulation {
        Some(m) if m.request_block > 0 => {
            let value = r
                .creations
                .iter()
                .find(|c| c.request_id == m.request_id.to_string())
                .and_then(|c| c.value_rao.as_ref())
                .and_then(|v| v.parse::<u128>().ok());
            // Blocks of the window at or after the stake: the only ones it can weigh in.
            let w = u128::from(f.options.price_window.max(1));
            let inside = u128::from(m.request_block.saturating_sub(m.block)).min(w);
            let allowed = m.spot_value.saturating_sub(m.pre_value) * inside / w + m.pre_value / 100;
            match value {
                Some(v) => {
                    // The keepers' value is the window mean's (floor roundings per asset aside).
                    let diff = v.abs_diff(m.twap_value);
                    let ok = diff <= v / 1_000_000 + 10 && v.saturating_sub(m.pre_value) <= allowed;
                    r.check(
                        name,
                        ok,
                        format!(
                            "netuid {} spot {} -> {} TAO per alpha one block before request {}; the delivery at the pre-stake spot {} rao, at spot after it {} rao, as the keepers valued it {v} rao (the window mean recomputed from the simulator: {} rao; the stake is in {inside} of W = {w} blocks, allowance {allowed} rao above the pre-stake value)",
                            m.netuid,
                            scenario::price(m.spot_before),
                            scenario::price(m.spot_after),
                            m.request_block,
                            m.pre_value,
                            m.spot_value,
                            m.twap_value,
                        ),
                    );
                }
                None => r.check(name, false, "the manipulated request was not minted"),
            }
        }
        _ => r.check(
            name,
            false,
            "the manipulation did not happen or was not valued",
        ),
    }

    // The holder's redemption (the arbitrageur's are judged with it, below).
    let holder = run.holder.0.to_string();
    let paid: Vec<u64> = r
        .redemptions
        .iter()
        .filter(|x| x.holder == holder)
        .filter(|x| {
            x.amounts
                .iter()
                .any(|a| a.netuid != 0 && a.amount.parse::<u128>().is_ok_and(|v| v > 0))
        })
        .map(|x| x.block)
        .collect();
    r.check(
        "a holder redeemed in kind",
        !paid.is_empty(),
        format!(
            "the holder's redemption paid alpha at block(s) {paid:?}; {} redemptions in all",
            r.redemptions.len()
        ),
    );

    // The auction.
    let flaky = run.bidders.iter().find(|b| b.flaky);
    let banned_by: Vec<usize> = (0..KEEPERS)
        .filter(|i| !faulty.contains(i))
        .filter(|i| {
            let m = scenario::mechanisms(&db(run, *i));
            m["bans"].as_array().is_some_and(|bs| {
                bs.iter()
                    .any(|b| flaky.is_some_and(|fl| b["uid"] == u64::from(fl.uid)))
            })
        })
        .collect();
    // Each keeper judges delivery on its own pool samples (a keeper killed or cut off during
    // the window skips the check); the ban takes effect through the published ban consensus.
    let excluded_from = r
        .windows
        .iter()
        .find(|w| flaky.is_some_and(|fl| w.banned.contains(&u64::from(fl.uid))))
        .map(|w| w.start);
    r.check(
        "the under-delivering bidder was banned",
        banned_by.len() >= 2 && excluded_from.is_some(),
        format!(
            "{} (uid {}) banned by keepers {banned_by:?}; excluded by the ban consensus from the window at block {}",
            flaky.map_or("-", |b| b.name.as_str()),
            flaky.map_or(0, |b| b.uid),
            excluded_from.map_or("-".into(), |b| b.to_string())
        ),
    );
    let wanted = if r.params.quick { 6 } else { 12 };
    let settled = r.windows.iter().filter(|w| w.skipped.is_none()).count();
    r.check(
        "auction windows settled",
        settled >= wanted,
        format!("{settled} settled (want {wanted})"),
    );
    // The arbitrageur: a creation at the pool's premium that made a profit and lowered the
    // premium (others may expire while the quorum is down: their bond is lost, and reported), and
    // a redemption at the discount a holder's sale opened that made a profit and narrowed it.
    let checks = [
        (
            "the arbitrageur made a profitable creation at a premium, and the premium fell",
            "create",
        ),
        (
            "the arbitrageur redeemed at a discount at a profit, and the discount narrowed",
            "redeem",
        ),
    ];
    for (name, kind) in checks {
        match &r.arbitrageur {
            Some(st) => {
                let (ok, detail) = arbitrageur_check(st, kind);
                r.check(name, ok, detail);
            }
            None => r.check(name, false, "no status from the arbitrageur"),
        }
    }

    // Mechanism 0 pays creation volume: in every subnet epoch with matched weights, each miner
    // with a mint in that epoch has a uid with a weight.
    let tempo = u64::from(f.options.tempo);
    let mut checked = Vec::new();
    let mut unpaid = Vec::new();
    for w in r
        .weights
        .iter()
        .filter(|w| w.mechanism == 0 && w.matches_on_chain)
    {
        let paid: BTreeSet<u64> = w
            .uids
            .iter()
            .zip(&w.weights)
            .filter(|(_, v)| **v > 0)
            .map(|(u, _)| *u)
            .collect();
        for c in r.creations.iter().filter(|c| c.status == "Minted") {
            let Some(b) = c.settled_block else { continue };
            if b < w.epoch || b >= w.epoch + tempo {
                continue;
            }
            if let Some(uid) = run.miner_uids.get(&c.miner) {
                checked.push((w.epoch, c.miner.clone(), *uid));
                if !paid.contains(&u64::from(*uid)) {
                    unpaid.push((w.epoch, c.miner.clone(), *uid));
                }
            }
        }
    }
    r.check(
        "mechanism 0 paid every creation miner of its epoch",
        !checked.is_empty() && unpaid.is_empty(),
        format!("(epoch, miner, uid) with a mint: {checked:?}; unpaid: {unpaid:?}"),
    );
    let matched = |m: u8| {
        r.weights
            .iter()
            .filter(|w| w.mechanism == m && w.matches_on_chain)
            .count()
    };
    // What each epoch's weights withheld from miners (the burn uid's share), and why any failed.
    let per_epoch: Vec<String> = r
        .weights
        .iter()
        .map(|w| {
            let burned = w
                .burn_bps
                .map_or_else(|| "-".into(), |b| format!("{}.{:02}%", b / 100, b % 100));
            match &w.detail {
                Some(d) if !w.matches_on_chain => {
                    format!("m{} e{} {} ({d})", w.mechanism, w.epoch, w.status)
                }
                _ => format!("m{} e{} {} burned {burned}", w.mechanism, w.epoch, w.status),
            }
        })
        .collect();
    r.check(
        "both mechanisms' weights landed on chain as computed",
        matched(0) >= 1 && matched(1) >= 1,
        format!(
            "matched: mechanism 0 {}, mechanism 1 {}; per epoch: {}",
            matched(0),
            matched(1),
            per_epoch.join(", ")
        ),
    );
    replay_check(run, r);
}

/// Every keeper's committed decisions, creation and mechanisms, of every block it processed,
/// decided again from their recorded inputs (KEEPER.md's rule 6: the same inputs give the same
/// decision).
fn replay_check(run: &Run, r: &mut Report) {
    let mut ok = true;
    let mut parts = Vec::new();
    // Each keeper's database is replayed on its own thread: a run's worth of blocks, decided
    // again, is seconds of work per keeper in a debug build.
    let replayed: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..KEEPERS)
            .map(|i| {
                scope.spawn(move || {
                    open(run, i).map(|store| tao20_node::replay::replay(store.conn()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    for (i, outcome) in replayed.into_iter().enumerate() {
        match outcome {
            None => {
                ok = false;
                parts.push(format!("validator-{i}: no database"));
            }
            Some(Ok(out)) => {
                ok &= out.whole && out.mechanism_blocks > 0 && out.mismatches.is_empty();
                let range = out
                    .range
                    .map(|(a, b)| format!(" ({a}-{b})"))
                    .unwrap_or_default();
                parts.push(format!(
                    "validator-{i}: {} blocks{range}{}, {} with the mechanisms, {} reports, {} differences",
                    out.blocks,
                    if out.whole { ", every block it processed" } else { ", not every block it processed" },
                    out.mechanism_blocks,
                    out.reports,
                    out.mismatches.len()
                ));
                if let Some(m) = out.mismatches.first() {
                    parts.push(format!("first at block {}: {}", m.block, m.what));
                }
            }
            Some(Err(e)) => {
                ok = false;
                parts.push(format!("validator-{i}: {e}"));
            }
        }
    }
    r.check(
        "every keeper's decisions of the whole run replay from their recorded inputs",
        ok,
        parts.join("; "),
    );
}

/// The share of `burn` in normalised weights, basis points rounded down (`None` without
/// weights): what the chain withholds from miners of that mechanism.
fn burn_share_bps(uids: &[u64], weights: &[u64], burn: u64) -> Option<u64> {
    let total: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let burned: u128 = uids
        .iter()
        .zip(weights)
        .filter(|(u, _)| **u == burn)
        .map(|(_, w)| u128::from(*w))
        .sum();
    u64::try_from(burned * 10_000 / total).ok()
}

/// Whether the arbitrageur's status has a finished operation of `kind` that made a profit and
/// moved the pool's premium towards NAV (a creation lowers it, a redemption raises it), and what
/// it did.
fn arbitrageur_check(st: &serde_json::Value, kind: &str) -> (bool, String) {
    let ops = st["operations"].as_array().cloned().unwrap_or_default();
    let bps = |o: &serde_json::Value, k: &str| o[k].as_str().and_then(|v| v.parse::<i64>().ok());
    let good: Vec<String> = ops
        .iter()
        .filter(|o| o["kind"] == kind && o["done"] == true)
        .filter(|o| match kind {
            "create" => o["outcome"] == "minted",
            _ => o["note"].is_null(),
        })
        .filter(|o| {
            o["pnl"]["profitRao"]
                .as_str()
                .and_then(|p| p.parse::<i128>().ok())
                .is_some_and(|p| p > 0)
        })
        .filter_map(
            |o| match (bps(o, "premiumBeforeBps"), bps(o, "premiumAfterBps")) {
                (Some(b), Some(a))
                    if (kind == "create" && a < b) || (kind != "create" && a > b) =>
                {
                    Some(format!(
                        "{b} -> {a} bps, profit {} TAO",
                        o["pnl"]["profit"].as_str().unwrap_or("?")
                    ))
                }
                _ => None,
            },
        )
        .collect();
    let outcomes: Vec<String> = ops
        .iter()
        .map(|o| {
            let outcome = match o["kind"].as_str() {
                Some("create") => o["outcome"].as_str().unwrap_or("open"),
                _ if o["done"] == true => o["note"].as_str().unwrap_or("done"),
                _ => "open",
            };
            // What the filters above looked at, so a failed check says which one refused.
            let seen = |k: &str| o[k].as_str().unwrap_or("-").to_string();
            format!(
                "{} {outcome} ({} -> {} bps, profit {} TAO)",
                o["kind"].as_str().unwrap_or("?"),
                seen("premiumBeforeBps"),
                seen("premiumAfterBps"),
                o["pnl"]["profit"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let what = if kind == "create" {
        "profitable creations"
    } else {
        "profitable redemptions"
    };
    (
        !good.is_empty(),
        format!(
            "{what}: {}; all operations: {}; total P&L {} TAO",
            good.join(", "),
            outcomes.join(", "),
            st["totalProfit"].as_str().unwrap_or("?")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burn_share_is_the_burn_uids_part_of_the_weights_rounded_down() {
        assert_eq!(burn_share_bps(&[0, 5], &[65_535, 65_535], 0), Some(5_000));
        assert_eq!(burn_share_bps(&[0, 5], &[1, 2], 0), Some(3_333));
        assert_eq!(burn_share_bps(&[5], &[65_535], 0), Some(0));
        assert_eq!(burn_share_bps(&[], &[], 0), None);
    }
}
