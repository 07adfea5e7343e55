//! The operator files in `ops/` against the keeper's metrics: every `tao20_…` metric the alerting
//! rules, their unit tests and the Grafana dashboard refer to is one the keeper registers, so a
//! renamed or misspelled metric fails here instead of leaving an alert that can never fire or an
//! empty panel. The dashboard is also checked to be JSON with a query in every panel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use tao20_node::metrics::Metrics;

fn ops(rel: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../ops")
        .join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    (format!("ops/{rel}"), text)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every `tao20_[a-z0-9_]+` identifier in `text` that is not the tail of a longer identifier.
fn metric_refs(text: &str) -> BTreeSet<String> {
    const PREFIX: &[u8] = b"tao20_";
    let bytes = text.as_bytes();
    let mut found = BTreeSet::new();
    let mut i = 0;
    while i + PREFIX.len() <= bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        if starts_word && bytes[i..].starts_with(PREFIX) {
            let mut end = i + PREFIX.len();
            while end < bytes.len()
                && (bytes[end].is_ascii_lowercase()
                    || bytes[end].is_ascii_digit()
                    || bytes[end] == b'_')
            {
                end += 1;
            }
            found.insert(text[i..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// The references that name no registered metric; a histogram's `_bucket`, `_sum` and `_count`
/// series count as its base name.
fn unknown(refs: &BTreeSet<String>, names: &BTreeSet<String>) -> Vec<String> {
    refs.iter()
        .filter(|r| {
            if names.contains(*r) {
                return false;
            }
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| r.strip_suffix(s));
            !base.is_some_and(|b| names.contains(b))
        })
        .cloned()
        .collect()
}

fn registered() -> BTreeSet<String> {
    let names: BTreeSet<String> = Metrics::new().unwrap().metric_names().into_iter().collect();
    assert!(
        names.contains("tao20_outbox_depth") && names.contains("tao20_quorum_latency_blocks"),
        "metric_names() lacks names it should have: {names:?}"
    );
    names
}

fn assert_known(file: &str, text: &str) {
    let refs = metric_refs(text);
    assert!(!refs.is_empty(), "{file} refers to no tao20_ metric");
    let missing = unknown(&refs, &registered());
    assert!(
        missing.is_empty(),
        "{file} refers to metrics the keeper does not export: {missing:?}"
    );
}

#[test]
fn the_scanner_finds_whole_names_and_reports_misspelled_ones() {
    let refs = metric_refs(
        "rate(tao20_peer_errors_total[5m]) + xtao20_not_a_name + \
         tao20_quorum_latency_blocks_bucket{le=\"1\"} tao20_outbox_dept tao20-keeper TAO20_X",
    );
    let want: BTreeSet<String> = [
        "tao20_peer_errors_total",
        "tao20_quorum_latency_blocks_bucket",
        "tao20_outbox_dept",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(refs, want);
    assert_eq!(unknown(&refs, &registered()), vec!["tao20_outbox_dept"]);
}

#[test]
fn every_metric_in_the_alerting_rules_exists() {
    for rel in [
        "prometheus/tao20-keeper.rules.yml",
        "prometheus/tao20-keeper.rules.test.yml",
    ] {
        let (file, text) = ops(rel);
        assert_known(&file, &text);
    }
}

#[test]
fn every_metric_on_the_dashboard_exists() {
    let (file, text) = ops("grafana/tao20-keeper.json");
    assert_known(&file, &text);
}

/// Every panel, with those nested in rows.
fn panels<'a>(list: &'a [serde_json::Value], out: &mut Vec<&'a serde_json::Value>) {
    for p in list {
        if p["type"] == "row" {
            if let Some(inner) = p["panels"].as_array() {
                panels(inner, out);
            }
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_dashboard_is_json_and_every_panel_has_a_query() {
    let (file, text) = ops("grafana/tao20-keeper.json");
    let dash: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    assert_eq!(dash["schemaVersion"], 39, "{file}: schemaVersion");
    let vars: Vec<&str> = dash["templating"]["list"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no templating list"))
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for v in ["DS_PROMETHEUS", "instance"] {
        assert!(vars.contains(&v), "{file}: no `{v}` variable in {vars:?}");
    }
    let mut all = Vec::new();
    panels(
        dash["panels"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no panels")),
        &mut all,
    );
    assert!(!all.is_empty(), "{file}: no panels");
    for p in all {
        let title = p["title"].as_str().unwrap_or("(untitled)");
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        assert!(
            !targets.is_empty(),
            "{file}: panel {title:?} has no targets"
        );
        for t in targets {
            let expr = t["expr"].as_str().unwrap_or("");
            assert!(
                !expr.trim().is_empty(),
                "{file}: panel {title:?} has a target without an expr"
            );
        }
        assert_eq!(
            p["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{file}: panel {title:?} does not use the DS_PROMETHEUS data source"
        );
    }
}
