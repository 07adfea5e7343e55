//! `report.html`: one self-contained page (inline SVG drawn by plotters, inline CSS, no script,
//! nothing fetched) a person reads at a glance.
//!
//! Floating point is used only to place marks on a chart; no number a check or a keeper relies on
//! passes through here.
#![allow(
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::fmt::Write as _;

use plotters::prelude::*;

use crate::report::Report;

const W: u32 = 560;
const H: u32 = 260;

fn fp(s: &str, scale: f64) -> f64 {
    s.parse::<f64>().unwrap_or(0.0) / scale
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

type Draw<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn svg(draw: impl FnOnce(&Draw<'_>) -> Result<(), String>) -> String {
    let mut out = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => out,
        Err(e) => format!("<p class=\"err\">chart not drawn: {}</p>", esc(&e)),
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    (lo - pad, hi + pad)
}

fn blocks(r: &Report) -> std::ops::Range<u64> {
    r.params.first_block.saturating_sub(10)..r.params.last_block.max(r.params.first_block + 1) + 10
}

type Series<'a> = (&'a str, RGBColor, Vec<(u64, f64)>);

fn line_chart(r: &Report, caption: &str, series: &[Series<'_>]) -> String {
    svg(|root| {
        let (lo, hi) = range(series.iter().flat_map(|s| s.2.iter().map(|p| p.1)));
        let mut c = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(blocks(r), lo..hi)
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc("block")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, pts) in series {
            let color = *color;
            c.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn nav_chart(r: &Report) -> String {
    let nav: Vec<(u64, f64)> = r
        .nav
        .iter()
        .map(|p| (p.block, fp(&p.nav_per_share, 1e18)))
        .collect();
    line_chart(r, "NAV per share (TAO, spot)", &[("NAV/share", BLUE, nav)])
}

fn supply_chart(r: &Report) -> String {
    let supply: Vec<(u64, f64)> = r
        .nav
        .iter()
        .map(|p| (p.block, fp(&p.supply, 1e18)))
        .collect();
    line_chart(
        r,
        "TAO20 supply (shares)",
        &[("supply", RGBColor(0, 130, 60), supply)],
    )
}

fn market_chart(r: &Report) -> String {
    if r.market.is_empty() {
        return "<p class=\"note\">No TAO20 market on this devnet: the pool price is not sampled.</p>"
            .to_string();
    }
    let pool: Vec<(u64, f64)> = r
        .market
        .iter()
        .map(|p| (p.block, fp(&p.pool_price, 1e18)))
        .collect();
    let nav: Vec<(u64, f64)> = r
        .market
        .iter()
        .map(|p| (p.block, fp(&p.nav_per_share, 1e18)))
        .collect();
    line_chart(
        r,
        "Pool price against NAV (TAO per share)",
        &[("pool", RED, pool), ("NAV", BLUE, nav)],
    )
}

fn timeline_chart(r: &Report) -> String {
    svg(|root| {
        let mut c = ChartBuilder::on(root)
            .caption("Timeline", ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(90)
            .build_cartesian_2d(blocks(r), 0f64..5f64)
            .map_err(|e| e.to_string())?;
        let lanes = ["", "faults", "redemptions", "refunds", "mints"];
        c.configure_mesh()
            .x_desc("block")
            .y_labels(6)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 {
                    lanes
                        .get(i as usize)
                        .map_or(String::new(), |s| (*s).to_string())
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| e.to_string())?;
        let mints = r
            .creations
            .iter()
            .filter(|x| x.status == "Minted")
            .filter_map(|x| x.settled_block);
        c.draw_series(mints.map(|b| Circle::new((b, 4.0), 6, RGBColor(0, 130, 60).filled())))
            .map_err(|e| e.to_string())?;
        let refunds = r
            .creations
            .iter()
            .filter(|x| x.status == "Refunded")
            .filter_map(|x| x.settled_block);
        c.draw_series(refunds.map(|b| TriangleMarker::new((b, 3.0), 7, RED.filled())))
            .map_err(|e| e.to_string())?;
        c.draw_series(
            r.redemptions
                .iter()
                .map(|x| Cross::new((x.block, 2.0), 6, BLUE.stroke_width(2))),
        )
        .map_err(|e| e.to_string())?;
        for fault in &r.faults {
            let to = fault.to_block.max(fault.from_block + 4);
            c.draw_series(std::iter::once(Rectangle::new(
                [(fault.from_block, 0.75), (to, 1.25)],
                RGBColor(200, 120, 0).filled(),
            )))
            .map_err(|e| e.to_string())?;
            c.draw_series(std::iter::once(Text::new(
                fault.kind.clone(),
                (fault.from_block, 1.45),
                ("sans-serif", 11),
            )))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn auction_chart(r: &Report) -> String {
    let budget: Vec<(u64, f64)> = r
        .windows
        .iter()
        .filter_map(|w| {
            w.budget_ph
                .as_ref()
                .map(|b| (w.start, fp(b, 1.0).max(1e-3)))
        })
        .collect();
    let spend: Vec<(u64, f64)> = r
        .windows
        .iter()
        .map(|w| (w.start, fp(&w.spend_ph, 1.0).max(1e-3)))
        .collect();
    svg(|root| {
        let hi = budget
            .iter()
            .chain(spend.iter())
            .map(|p| p.1)
            .fold(1.0f64, f64::max)
            * 2.0;
        let mut c = ChartBuilder::on(root)
            .caption(
                "Auction per window: budget and PH bought (log)",
                ("sans-serif", 15),
            )
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(blocks(r), (1e-3f64..hi).log_scale())
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc("window start")
            .y_desc("PH")
            .draw()
            .map_err(|e| e.to_string())?;
        c.draw_series(LineSeries::new(
            budget.iter().copied(),
            BLUE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("budget")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        c.draw_series(spend.iter().map(|(b, v)| {
            Rectangle::new([(*b, 1e-3), (*b + 20, *v)], RGBColor(0, 130, 60).filled())
        }))
        .map_err(|e| e.to_string())?
        .label("bought")
        .legend(|(x, y)| {
            Rectangle::new([(x, y - 4), (x + 12, y + 4)], RGBColor(0, 130, 60).filled())
        });
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn weights_chart(r: &Report, mechanism: u8) -> String {
    let Some(w) = r
        .weights
        .iter()
        .rfind(|w| w.mechanism == mechanism && w.matches_on_chain)
    else {
        return format!("<p class=\"note\">No weights of mechanism {mechanism} read back.</p>");
    };
    let pts: Vec<(u64, u64)> = w
        .uids
        .iter()
        .copied()
        .zip(w.weights.iter().copied())
        .collect();
    let caption = format!(
        "Mechanism {mechanism} weights per uid (subnet epoch {})",
        w.epoch
    );
    svg(|root| {
        let max_uid = pts.iter().map(|p| p.0).max().unwrap_or(1) + 1;
        let mut c = ChartBuilder::on(root)
            .caption(caption.as_str(), ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0u64..max_uid + 1, (1u64..70_000u64).log_scale())
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc("uid")
            .y_desc("u16 weight (log)")
            .draw()
            .map_err(|e| e.to_string())?;
        c.draw_series(pts.iter().map(|(u, v)| {
            Rectangle::new(
                [(*u, 1), (*u + 1, (*v).max(1))],
                RGBColor(90, 60, 170).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn gas_chart(r: &Report) -> String {
    let rows: Vec<(String, f64)> = r
        .gas
        .iter()
        .filter(|g| g.count > 0)
        .map(|g| {
            (
                format!("{} x{}", g.call, g.count),
                g.gas as f64 / g.count as f64,
            )
        })
        .collect();
    svg(|root| {
        let hi = rows.iter().map(|x| x.1).fold(1.0f64, f64::max) * 1.2;
        let n = rows.len().max(1) as f64;
        let mut c = ChartBuilder::on(root)
            .caption("Gas per transaction, by kind (mean)", ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(10)
            .build_cartesian_2d(0f64..hi, 0f64..n)
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("gas")
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (name, g)) in rows.iter().enumerate() {
            let y = i as f64;
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.15), (*g, y + 0.85)],
                RGBColor(200, 120, 0).filled(),
            )))
            .map_err(|e| e.to_string())?;
            c.draw_series(std::iter::once(Text::new(
                format!("{name}: {g:.0}"),
                (hi * 0.01, y + 0.62),
                ("sans-serif", 12),
            )))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// The page.
pub fn render(r: &Report) -> String {
    let ok = r.ok();
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html><head><meta charset="utf-8"><title>TAO20 demo report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1180px}}
h1{{margin:0 0 4px}} .sub{{color:#666;margin-bottom:16px}}
.verdict{{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600;background:{bg}}}
.grid{{display:grid;grid-template-columns:repeat(2,{W}px);gap:12px}}
table{{border-collapse:collapse;margin:8px 0 16px;font-size:13px}}
td,th{{border:1px solid #ddd;padding:3px 8px;text-align:left}} th{{background:#f4f4f4}}
.ok{{color:#0a7d32;font-weight:600}} .bad{{color:#c62828;font-weight:600}} .note{{color:#666}}
</style></head><body>
<h1>TAO20 demo</h1>
<div class="sub">{k} keepers ({fk} faulty), {s} basket subnets, {bt} ms blocks, creation epochs of {el} blocks (shortened from 14 days), subnet tempo {t}; blocks {fb}–{lb}, {ws} s.</div>
<div class="verdict">{verdict}</div>
"#,
        bg = if ok { "#0a7d32" } else { "#c62828" },
        k = r.params.keepers,
        fk = r.params.faulty_keepers,
        s = r.params.subnets,
        bt = r.params.block_time_ms,
        el = r.params.epoch_length,
        t = r.params.tempo,
        fb = r.params.first_block,
        lb = r.params.last_block,
        ws = r.params.wall_secs,
        verdict = if ok {
            format!("all {} checks passed", r.checks.len())
        } else {
            format!(
                "{} of {} checks failed",
                r.checks.iter().filter(|c| !c.ok).count(),
                r.checks.len()
            )
        },
    );
    h.push_str("<h2>Checks</h2><table><tr><th></th><th>check</th><th>detail</th></tr>");
    for c in &r.checks {
        let _ = write!(
            h,
            "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            if c.ok { "ok" } else { "bad" },
            if c.ok { "ok" } else { "FAIL" },
            esc(&c.name),
            esc(&c.detail)
        );
    }
    h.push_str("</table><h2>Charts</h2><div class=\"grid\">");
    for chart in [
        nav_chart(r),
        supply_chart(r),
        market_chart(r),
        timeline_chart(r),
        auction_chart(r),
        gas_chart(r),
        weights_chart(r, 0),
        weights_chart(r, 1),
    ] {
        let _ = write!(h, "<div>{chart}</div>");
    }
    h.push_str("</div><h2>Keepers</h2><table><tr><th>keeper</th><th>signer</th><th>faulty</th><th>restarts</th><th>signed</th><th>refused</th><th>txs</th><th>cursor</th><th>lag median / max (blocks)</th></tr>");
    for k in &r.keepers {
        let lag = r
            .keeper_lag
            .iter()
            .find(|l| l.name == k.name)
            .map(|l| format!("{} / {}", l.median, l.max))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.name), esc(&k.signer), if k.faulty { "yes" } else { "" }, k.restarts, k.signed, k.refused, k.txs, k.cursor, lag
        );
    }
    h.push_str("</table>");
    if let Some(l) = &r.mint_latency {
        let _ = write!(
            h,
            "<p>From a delivery's block to its mint's block: median {} blocks, longest {}, over {} mints (the delivery is first finalized, then valued, signed by a quorum and sent at its turn).</p>",
            l.median, l.max, l.mints
        );
    }
    h.push_str(&format!(
        "<h2>Subtensor clients</h2><p>The devnet's Substrate endpoint served {} JSON-RPC requests over the scenario's {} blocks ({} per block, every process and the harness's <code>dev_*</code> calls included).</p><table><tr><th>process</th><th>client</th><th>endpoint</th><th>requests</th><th>blocks processed</th><th>requests per block</th></tr>",
        r.node_load.requests,
        r.node_load.blocks,
        r.node_load.requests / r.node_load.blocks.max(1)
    ));
    for c in &r.clients {
        let per = match (c.requests, c.blocks) {
            (Some(q), Some(b)) if b > 0 => format!("{:.1}", q as f64 / b as f64),
            _ => String::new(),
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{per}</td></tr>",
            esc(&c.process),
            esc(&c.client),
            esc(&c.endpoint),
            c.requests.map(|n| n.to_string()).unwrap_or_default(),
            c.blocks.map(|n| n.to_string()).unwrap_or_default(),
        ));
    }
    h.push_str("</table><h2>Creations</h2><table><tr><th>miner</th><th>what</th><th>units</th><th>status</th><th>request</th><th>delivery</th><th>settled</th><th>value (TAO)</th><th>signers</th><th>txs</th><th>gas</th></tr>");
    for c in &r.creations {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.miner),
            esc(&c.note),
            c.units,
            if c.status == "Minted" || c.status == "Refunded" { "ok" } else { "bad" },
            esc(&c.status),
            c.request_block,
            c.delivery_block,
            c.settled_block.map_or("-".into(), |b| b.to_string()),
            c.value_rao.as_deref().map_or("-".into(), |v| format!("{:.4}", fp(v, 1e9))),
            esc(&c.signers.join(", ")),
            c.txs,
            c.gas_used
        );
    }
    h.push_str("</table><h2>Weights per subnet epoch</h2><p>As the first honest keeper decided them. The burn uid's share is the part of the mechanism's miner emission the chain withholds; subtensor counts it in <code>MinerBurned</code> and scales the subnet's emission share by one minus it.</p><table><tr><th>mechanism</th><th>epoch</th><th>committed</th><th>revealed</th><th>status</th><th>burned</th><th>reason</th></tr>");
    for w in &r.weights {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            w.mechanism,
            w.epoch,
            w.commit_block.map_or_else(|| "-".into(), |b| b.to_string()),
            w.reveal_block.map_or_else(|| "-".into(), |b| b.to_string()),
            esc(&w.status),
            w.burn_bps.map_or_else(
                || "-".into(),
                |b| format!("{}.{:02}%", b / 100, b % 100)
            ),
            esc(w.detail.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table><h2>Faults injected</h2><table><tr><th>kind</th><th>target</th><th>blocks</th><th>detail</th></tr>");
    for f in &r.faults {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td></tr>",
            esc(&f.kind),
            esc(&f.target),
            f.from_block,
            f.to_block,
            esc(&f.detail)
        );
    }
    h.push_str("</table><h2>Auction windows</h2><table><tr><th>epoch</th><th>#</th><th>blocks</th><th>budget PH</th><th>bought PH</th><th>winners uid:PHxN@price</th><th>banned</th><th>failed</th><th>delivery</th></tr>");
    for w in &r.windows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{:?}</td><td>{}</td></tr>",
            w.epoch_start,
            w.index,
            w.start,
            w.end,
            w.budget_ph.as_deref().map_or("-".into(), |b| format!("{:.1}", fp(b, 1.0))),
            esc(&w.spend_ph),
            esc(&w.winners.join(" ")),
            w.banned,
            w.failed,
            if w.delivery_skipped { "not checked (sampling gap)" } else { "checked" }
        );
    }
    h.push_str("</table></body></html>\n");
    h
}
