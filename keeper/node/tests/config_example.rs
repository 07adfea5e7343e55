//! `examples/keeper.example.toml` against the configuration it documents: the keeper's own
//! loader accepts it (and would refuse a key it does not know), and its keys, set or shown
//! commented out, are exactly the configuration's keys, so neither can drift from the other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use figment::providers::{Format, Toml};
use figment::Figment;
use tao20_node::config::{FlagOverrides, KeeperConfig};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/keeper.example.toml")
}

/// Maps whose keys are the operator's (header names), not configuration keys.
const OPEN_MAPS: &[&str] = &["headers"];

/// Every key path of a JSON value: `a.b`, with `[]` for array elements (their keys unioned).
fn paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                if !OPEN_MAPS.contains(&k.as_str()) {
                    paths(child, &p, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The example with every optional line (`# key = value`, `# [table]`) switched on.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    }) =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_loads_with_the_keepers_own_loader() {
    let cfg = KeeperConfig::load(&example(), &FlagOverrides::default()).unwrap();
    assert_eq!(cfg.subtensor.netuid, 1);
    assert!(cfg.mechanisms.enabled);
    assert!(cfg.mechanisms.prices.is_some() && cfg.mechanisms.pool.is_some());
    assert!(
        !cfg.store.path.starts_with("~"),
        "~/ is expanded: {}",
        cfg.store.path.display()
    );
}

#[test]
fn the_example_names_every_key_and_no_other() {
    let text = std::fs::read_to_string(example()).unwrap();
    let cfg = KeeperConfig::load(&example(), &FlagOverrides::default()).unwrap();
    let mut schema = BTreeSet::new();
    paths(&serde_json::to_value(&cfg).unwrap(), "", &mut schema);
    // The optional tables the example shows commented out have the keys of their siblings.
    let proxy: Vec<String> = schema
        .iter()
        .filter_map(|p| p.strip_prefix("mechanisms.pool.luxor."))
        .map(|k| format!("mechanisms.pool.proxy.{k}"))
        .collect();
    schema.extend(proxy);
    // `[transmitter]` has the keys of `[signer]` (it is unset in the example, so absent above).
    let transmitter: Vec<String> = schema
        .iter()
        .filter_map(|p| p.strip_prefix("signer."))
        .map(|k| format!("transmitter.{k}"))
        .collect();
    schema.extend(transmitter);
    let documented: serde_json::Value = Figment::from(Toml::string(&uncommented(&text)))
        .extract()
        .unwrap();
    let mut named = BTreeSet::new();
    paths(&documented, "", &mut named);
    // Both price metrics have the same keys: a key documented for one is documented for both.
    let shared = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .map(|p| {
                for m in ["tao_usdc", "hashp_usdc"] {
                    if let Some(rest) = p.strip_prefix(&format!("mechanisms.prices.{m}.")) {
                        return format!("mechanisms.prices.*.{rest}");
                    }
                }
                p
            })
            .collect()
    };
    let (schema, named) = (shared(schema), shared(named));
    let missing: Vec<_> = schema.difference(&named).collect();
    let unknown: Vec<_> = named.difference(&schema).collect();
    assert!(
        missing.is_empty(),
        "keys the example does not document: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "keys the example names that do not exist: {unknown:?}"
    );
    // Each optional key, switched on alone, still loads; except those exclusive with a key set
    // above (password_env, suri_file), fault injection (refused on finney) and the keys of a
    // table shown commented out.
    let lines: Vec<&str> = text.lines().collect();
    let mut in_commented_table = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with('[') {
            in_commented_table = false;
        }
        if line.starts_with("# [") {
            in_commented_table = true;
        }
        let Some((key, _)) = line.strip_prefix("# ").and_then(|r| r.split_once(" = ")) else {
            continue;
        };
        if in_commented_table
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || matches!(key, "password_env" | "suri_file" | "fault")
        {
            continue;
        }
        let mut on = lines.clone();
        on[i] = &line[2..];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keeper.toml");
        std::fs::write(&path, on.join("\n")).unwrap();
        if let Err(e) = KeeperConfig::load(&path, &FlagOverrides::default()) {
            panic!("line {}: `{}` does not load: {e}", i + 1, &line[2..]);
        }
    }
}

#[test]
fn a_key_the_keeper_does_not_know_is_refused() {
    let text = std::fs::read_to_string(example()).unwrap();
    for (section, typo) in [
        ("[exchange]", "max_body = 10"),
        ("[mechanisms.pool.luxor]", "apikey_env = \"X\""),
        ("[creation.index]", "top_n = \"20\""),
    ] {
        let doc = text.replacen(section, &format!("{section}\n{typo}"), 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keeper.toml");
        std::fs::write(&path, doc).unwrap();
        let err = KeeperConfig::load(&path, &FlagOverrides::default()).unwrap_err();
        let key = typo.split(' ').next().unwrap();
        assert!(err.to_string().contains(key), "{section} {typo}: {err}");
    }
}

#[test]
fn the_unused_budget_destination_is_the_protocols_and_no_keeper_can_choose_another() {
    use tao20_auction::weights::{UnusedBudget, PROTOCOL_UNUSED_BUDGET};
    assert_eq!(PROTOCOL_UNUSED_BUDGET, UnusedBudget::Burn);
    let text = std::fs::read_to_string(example()).unwrap();
    assert!(text.contains("unused_budget = \"burn\""));
    let dir = tempfile::tempdir().unwrap();
    let load = |line: &str| {
        let path = dir.path().join("keeper.toml");
        std::fs::write(&path, text.replace("unused_budget = \"burn\"", line)).unwrap();
        KeeperConfig::load(&path, &FlagOverrides::default())
    };
    // Naming the rule, or leaving the key out, is accepted.
    assert_eq!(
        load("unused_budget = \"burn\"")
            .unwrap()
            .mechanisms
            .unused_budget,
        Some(UnusedBudget::Burn)
    );
    assert_eq!(load("").unwrap().mechanisms.unused_budget, None);
    // Another destination would make this keeper's weights differ from its peers': refused at
    // start-up, naming the key and the rule.
    let err = load("unused_budget = \"winners\"").unwrap_err().to_string();
    assert!(
        err.contains("mechanisms.unused_budget") && err.contains("Burn"),
        "{err}"
    );
    let err = load("unused_budget = \"owner\"").unwrap_err().to_string();
    assert!(
        err.contains("unused_budget") || err.contains("owner"),
        "{err}"
    );
}

/// A record kept longer than the retention would be replayed against pruned reports and windows
/// and report differences that are not there.
#[test]
fn a_replay_record_longer_than_the_retention_is_refused() {
    let mut cfg = KeeperConfig::load(&example(), &FlagOverrides::default()).unwrap();
    cfg.store.retention_blocks = 20_000;
    cfg.engine.record_blocks = 20_000;
    cfg.validate().unwrap();
    cfg.engine.record_blocks = 20_001;
    let e = cfg.validate().unwrap_err().to_string();
    assert!(e.contains("engine.record_blocks"), "{e}");
    // Without pruning any record length is fine.
    cfg.store.retention_blocks = 0;
    cfg.validate().unwrap();
}
