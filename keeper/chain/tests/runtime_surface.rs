//! The runtime surface the keeper uses (`client::surface`), checked three ways: every entry is in
//! the checked-in metadata as written (argument names included), and the metadata is the spec
//! `docs/subtensor.md` states; the table is what the client's code actually builds and reads; and
//! its differences from the tables `bittensor` 11.3.0 generates from a newer runtime (presence,
//! argument names, type identities, error indices; `tests/bittensor_tables.py`, in the cross-check
//! venv of `tools/deps.sh`) are exactly `surface::KNOWN_DIFFERENCES`, so the list cannot rot in
//! either direction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use codec::Decode;
use serde_json::{json, Value};
use tao20_chain::client::surface::{
    self, Difference, Kind, Read, CALLS, CONSTANTS, ERRORS, KNOWN_DIFFERENCES, RUNTIME_APIS,
    STORAGE,
};
use tao20_chain::client::{self, raw, CHECKED_SPEC_VERSION, METADATA_SPEC_VERSION};
use tao20_chain::types::{Bytes32, Call, TransferStake};

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/subtensor.md");
const DOCS_SECTION: &str = "## The runtime the keeper is built against";

/// (kind, container, name): one entry of the surface.
type Key = (&'static str, String, String);

fn key(kind: Kind, container: &str, name: &str) -> Key {
    (kind.as_str(), container.to_string(), name.to_string())
}

/// The section of `docs/subtensor.md` this test keeps in step.
fn docs_section() -> String {
    let text = std::fs::read_to_string(DOCS).unwrap();
    let start = text
        .find(DOCS_SECTION)
        .unwrap_or_else(|| panic!("docs/subtensor.md has no section {DOCS_SECTION:?}"));
    let rest = &text[start + DOCS_SECTION.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_checked_in_metadata_is_the_spec_the_docs_state() {
    let metadata = client::metadata().unwrap();
    let version = metadata
        .pallet_by_name("System")
        .and_then(|p| p.constant_by_name("Version"))
        .expect("System::Version in the checked-in metadata");
    // A SCALE `RuntimeVersion` starts: spec_name, impl_name, authoring, spec, impl version.
    let (spec_name, _impl_name, _authoring, spec_version, _impl_version) =
        <(String, String, u32, u32, u32)>::decode(&mut version.value()).unwrap();
    assert_eq!(spec_name, "node-subtensor");
    assert_eq!(spec_version, METADATA_SPEC_VERSION);
    let docs = docs_section();
    for stated in [METADATA_SPEC_VERSION, CHECKED_SPEC_VERSION] {
        assert!(
            docs.contains(&format!("spec {stated}")),
            "{DOCS_SECTION} does not state spec {stated}"
        );
    }
}

/// The entries the checked-in metadata lacks. Calls, typed storage, runtime APIs and constants
/// must all be there (argument names and order included); only raw-key reads may be missing.
fn absent_from_metadata() -> BTreeSet<Key> {
    let metadata = client::metadata().unwrap();
    let mut absent = BTreeSet::new();
    for c in CALLS {
        let variant = metadata
            .pallet_by_name(c.pallet)
            .and_then(|p| p.call_variant_by_name(c.call))
            .unwrap_or_else(|| panic!("{}::{} not in the metadata", c.pallet, c.call));
        let args: Vec<_> = variant
            .fields
            .iter()
            .map(|f| f.name.as_deref().unwrap_or("?"))
            .collect();
        assert_eq!(args, c.args, "{}::{}", c.pallet, c.call);
    }
    for s in STORAGE {
        let present = metadata
            .pallet_by_name(s.pallet)
            .and_then(|p| p.storage())
            .and_then(|st| st.entry_by_name(s.item))
            .is_some();
        match s.read {
            Read::Typed | Read::TypedAndRawKey => {
                assert!(present, "{}::{} not in the metadata", s.pallet, s.item)
            }
            Read::RawKey if !present => {
                absent.insert(key(Kind::Storage, s.pallet, s.item));
            }
            Read::RawKey => {}
        }
    }
    for a in RUNTIME_APIS {
        let present = metadata
            .runtime_api_trait_by_name(a.api)
            .and_then(|t| t.method_by_name(a.method))
            .is_some();
        match a.caller {
            surface::Caller::ClientByName if !present => {
                absent.insert(key(Kind::RuntimeApi, a.api, a.method));
            }
            _ => assert!(present, "{}::{} not in the metadata", a.api, a.method),
        }
    }
    for c in CONSTANTS {
        assert!(
            metadata
                .pallet_by_name(c.pallet)
                .and_then(|p| p.constant_by_name(c.name))
                .is_some(),
            "{}::{} not in the metadata",
            c.pallet,
            c.name
        );
    }
    for e in ERRORS {
        assert!(
            error_index(&metadata, e.pallet, e.name).is_some(),
            "{}::{} not in the metadata",
            e.pallet,
            e.name
        );
    }
    absent
}

/// (pallet error index, error index) of a dispatch error, as `DispatchError::Module` carries it.
fn error_index(metadata: &subxt::Metadata, pallet: &str, name: &str) -> Option<[u8; 2]> {
    let p = metadata.pallet_by_name(pallet)?;
    let variant = p.error_variants()?.iter().find(|v| v.name == name)?;
    Some([p.error_index(), variant.index])
}

#[test]
fn every_entry_is_in_the_checked_in_metadata_or_read_by_raw_key() {
    let absent = absent_from_metadata();
    // The stateful epoch schedule came with spec 423, after the metadata's 365, and so did the
    // all-subnets price API, the balancer pools' weights and stake locks.
    let mut expected: BTreeSet<Key> = ["LastEpochBlock", "PendingEpochAt", "SubnetEpochIndex"]
        .into_iter()
        .map(|item| key(Kind::Storage, "SubtensorModule", item))
        .collect();
    expected.insert(key(
        Kind::RuntimeApi,
        "SwapRuntimeApi",
        "current_alpha_price_all",
    ));
    expected.insert(key(
        Kind::RuntimeApi,
        "StakeInfoRuntimeApi",
        "get_stake_availability_for_coldkeys",
    ));
    expected.insert(key(Kind::Storage, "Swap", "SwapBalancer"));
    assert_eq!(absent, expected);
}

/// One instance of every call the client builds.
fn sample_calls() -> Vec<Call> {
    let account = Bytes32([7; 32]);
    let calls = vec![
        Call::Remark { data: vec![1] },
        Call::BatchAll { calls: vec![] },
        Call::SetCommitment {
            netuid: 1,
            data: vec![1],
        },
        Call::TransferStake(TransferStake {
            destination_coldkey: account,
            hotkey: account,
            origin_netuid: 1,
            destination_netuid: 1,
            alpha_amount: 1,
        }),
        Call::SetMechanismWeights {
            netuid: 1,
            mecid: 1,
            dests: vec![0],
            weights: vec![1],
            version_key: 0,
        },
        Call::CommitTimelockedMechanismWeights {
            netuid: 1,
            mecid: 1,
            commit: vec![1],
            reveal_round: 1,
            commit_reveal_version: 4,
        },
        Call::AddStake {
            hotkey: account,
            netuid: 1,
            amount_staked: 1,
        },
        Call::RemoveStake {
            hotkey: account,
            netuid: 1,
            amount_unstaked: 1,
        },
        Call::ServeAxon {
            netuid: 1,
            version: 1,
            ip: 1,
            port: 1,
            ip_type: 4,
            protocol: 0,
        },
    ];
    // A new variant fails to compile here until it gets a sample above and a row in CALLS.
    for call in &calls {
        match call {
            Call::Remark { .. }
            | Call::BatchAll { .. }
            | Call::SetCommitment { .. }
            | Call::TransferStake(_)
            | Call::SetMechanismWeights { .. }
            | Call::CommitTimelockedMechanismWeights { .. }
            | Call::AddStake { .. }
            | Call::RemoveStake { .. }
            | Call::ServeAxon { .. } => {}
            Call::Other { .. } => unreachable!("not built by the client"),
        }
    }
    calls
}

#[test]
fn the_calls_are_those_the_client_encodes() {
    let metadata = client::metadata().unwrap();
    let mut seen = BTreeMap::new();
    for call in sample_calls() {
        let bytes = client::encode_call(&metadata, &call).unwrap();
        let pallet = metadata.pallet_by_call_index(bytes[0]).unwrap();
        let variant = pallet.call_variant_by_index(bytes[1]).unwrap();
        let args: Vec<String> = variant
            .fields
            .iter()
            .map(|f| f.name.clone().unwrap_or_default())
            .collect();
        seen.insert((pallet.name().to_string(), variant.name.clone()), args);
    }
    let table: BTreeMap<_, _> = CALLS
        .iter()
        .map(|c| {
            let args: Vec<String> = c.args.iter().map(|a| a.to_string()).collect();
            ((c.pallet.to_string(), c.call.to_string()), args)
        })
        .collect();
    assert_eq!(seen, table);
}

/// `name` without case or underscores: subxt's snake_case accessor and the metadata's name agree
/// on it (`subnet_alpha_in` / `SubnetAlphaIn`).
fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn ident_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..len]
}

/// `(first, second)` of every `marker first().second(` in `text`; `second` is empty for a chain
/// that stops after `first()` (bound to a variable).
fn accessor_pairs(text: &str, marker: &str) -> Vec<(String, String)> {
    text.match_indices(marker)
        .map(|(at, _)| {
            let first = ident_at(text, at + marker.len());
            let after = at + marker.len() + first.len();
            let second = match text[after..].strip_prefix("().") {
                Some(_) => ident_at(text, after + 3),
                None => "",
            };
            (first.to_string(), second.to_string())
        })
        .collect()
}

/// The client's source with all whitespace removed, so chains split over lines read as one.
fn client_source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/client/mod.rs");
    std::fs::read_to_string(path)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn the_storage_items_and_runtime_apis_are_those_the_client_reads() {
    let metadata = client::metadata().unwrap();
    let source = client_source();
    let pallet = |snake: &str| {
        metadata
            .pallets()
            .find(|p| folded(p.name()) == folded(snake))
            .unwrap_or_else(|| panic!("no pallet for {snake}"))
    };
    let entry = |pallet: &str, snake: &str| {
        metadata
            .pallet_by_name(pallet)
            .and_then(|p| p.storage())
            .and_then(|s| {
                s.entries()
                    .iter()
                    .find(|e| folded(e.name()) == folded(snake))
            })
            .map(|e| e.name().to_string())
    };
    let mut read = BTreeSet::new();
    let mut aliased = false;
    for (p, e) in accessor_pairs(&source, "finney::storage().") {
        let p = pallet(&p);
        if e.is_empty() {
            // `let s = finney::storage().subtensor_module();` then `s.item()`.
            assert_eq!(p.name(), "SubtensorModule");
            aliased = true;
            continue;
        }
        let name = entry(p.name(), &e).unwrap_or_else(|| panic!("no entry for {e}"));
        read.insert((p.name().to_string(), name));
    }
    if aliased {
        for (at, _) in source.match_indices("s.") {
            if source[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(name) = entry("SubtensorModule", ident_at(&source, at + 2)) {
                read.insert(("SubtensorModule".to_string(), name));
            }
        }
    }
    let typed: BTreeSet<_> = STORAGE
        .iter()
        .filter(|s| s.read != Read::RawKey)
        .map(|s| (s.pallet.to_string(), s.item.to_string()))
        .collect();
    assert_eq!(read, typed);

    // The raw-key reads are the epoch schedule's items and the swap pool's.
    let raw_read: BTreeSet<_> = raw::SCHEDULE_ITEMS
        .iter()
        .chain(raw::SWAP_POOL_ITEMS.iter())
        .map(|i| (i.pallet.to_string(), i.name.to_string()))
        .collect();
    let raw_table: BTreeSet<_> = STORAGE
        .iter()
        .filter(|s| s.read != Read::Typed)
        .map(|s| (s.pallet.to_string(), s.item.to_string()))
        .collect();
    assert_eq!(raw_read, raw_table);

    let mut called = BTreeSet::new();
    for (api, method) in accessor_pairs(&source, "finney::runtime_apis().") {
        let t = metadata
            .runtime_api_traits()
            .find(|t| folded(t.name()) == folded(&api))
            .unwrap_or_else(|| panic!("no runtime API for {api}"));
        let m = t
            .methods()
            .find(|m| m.name() == method)
            .unwrap_or_else(|| panic!("no method {api}::{method}"));
        called.insert((t.name().to_string(), m.name().to_string()));
    }
    let table = |caller| -> BTreeSet<_> {
        RUNTIME_APIS
            .iter()
            .filter(|a| a.caller == caller)
            .map(|a| (a.api.to_string(), a.method.to_string()))
            .collect()
    };
    assert_eq!(called, table(surface::Caller::Client));

    // Methods called by name: `call_raw("Api_method", ..)` (API trait names have no underscore).
    let mut by_name = BTreeSet::new();
    for (at, _) in source.match_indices("call_raw(\"") {
        let name = &source[at + 10..];
        let name = &name[..name.find('"').unwrap()];
        let (api, method) = name.split_once('_').unwrap();
        by_name.insert((api.to_string(), method.to_string()));
    }
    assert_eq!(by_name, table(surface::Caller::ClientByName));
}

/// A type's identity as bittensor's codegen writes it: the last segment of its registry path, or
/// for a type without one the primitive's name or a structural name (`Vec<u16>`, `(u16, u16)`).
fn type_ident(metadata: &subxt::Metadata, id: u32) -> String {
    use scale_info::{TypeDef, TypeDefPrimitive as P};
    let ty = metadata.types().resolve(id).unwrap();
    if let Some(last) = ty.path.segments.last() {
        return last.clone();
    }
    match &ty.type_def {
        TypeDef::Primitive(p) => match p {
            P::Bool => "bool",
            P::Char => "char",
            P::Str => "str",
            P::U8 => "u8",
            P::U16 => "u16",
            P::U32 => "u32",
            P::U64 => "u64",
            P::U128 => "u128",
            P::U256 => "u256",
            P::I8 => "i8",
            P::I16 => "i16",
            P::I32 => "i32",
            P::I64 => "i64",
            P::I128 => "i128",
            P::I256 => "i256",
        }
        .to_string(),
        TypeDef::Sequence(s) => format!("Vec<{}>", type_ident(metadata, s.type_param.id)),
        TypeDef::Array(a) => format!("[{}; {}]", type_ident(metadata, a.type_param.id), a.len),
        TypeDef::Tuple(t) => {
            let fields: Vec<_> = t
                .fields
                .iter()
                .map(|f| type_ident(metadata, f.id))
                .collect();
            format!("({})", fields.join(", "))
        }
        TypeDef::Compact(c) => format!("Compact<{}>", type_ident(metadata, c.type_param.id)),
        other => panic!("type {id} has no path: {other:?}"),
    }
}

/// A call argument's identity as bittensor's call builders annotate it: structural types are
/// `Any`.
fn arg_ident(metadata: &subxt::Metadata, id: u32) -> String {
    let ident = type_ident(metadata, id);
    if ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        ident
    } else {
        "Any".to_string()
    }
}

/// The Python of the cross-check's virtual environment (`tools/deps.sh` makes it and installs
/// `bittensor` there without its dependencies), as `tests/substrate_node.rs` finds it.
fn substrate_python() -> std::path::PathBuf {
    match std::env::var_os("TAO20_SUBSTRATE_PYTHON") {
        Some(p) => p.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/substrate-venv/bin/python"),
    }
}

/// The surface looked up in bittensor's tables, by entry.
fn newer_runtime() -> BTreeMap<Key, Value> {
    let metadata = client::metadata().unwrap();
    let calls: Vec<Value> = CALLS
        .iter()
        .map(|c| {
            let variant = metadata
                .pallet_by_name(c.pallet)
                .and_then(|p| p.call_variant_by_name(c.call))
                .unwrap();
            let types: Vec<String> = variant
                .fields
                .iter()
                .map(|f| arg_ident(&metadata, f.ty.id))
                .collect();
            json!({"pallet": c.pallet, "call": c.call, "args": c.args, "types": types})
        })
        .collect();
    let storage: Vec<Value> = STORAGE
        .iter()
        .map(|s| {
            let entry = metadata
                .pallet_by_name(s.pallet)
                .and_then(|p| p.storage())
                .and_then(|st| st.entry_by_name(s.item));
            match entry {
                Some(e) => json!({"pallet": s.pallet, "item": s.item,
                    "value_type": type_ident(&metadata, e.value_ty())}),
                None => json!({"pallet": s.pallet, "item": s.item}),
            }
        })
        .collect();
    let surface = json!({
        "calls": calls,
        "storage": storage,
        "runtime_apis": RUNTIME_APIS.iter().map(|a| json!({"api": a.api, "method": a.method}))
            .collect::<Vec<_>>(),
        "constants": CONSTANTS.iter().map(|c| json!({"pallet": c.pallet, "name": c.name}))
            .collect::<Vec<_>>(),
        "errors": ERRORS.iter().map(|e| json!({"pallet": e.pallet, "name": e.name,
            "index": error_index(&metadata, e.pallet, e.name).unwrap()}))
            .collect::<Vec<_>>(),
    });
    let path = std::env::temp_dir().join(format!("tao20-surface-{}.json", std::process::id()));
    std::fs::write(&path, surface.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bittensor_tables.py");
    let python = substrate_python();
    let output = std::process::Command::new(&python)
        .arg(script)
        .arg(&path)
        .output();
    std::fs::remove_file(&path).unwrap();
    let output = output.unwrap_or_else(|e| panic!("{}: {e} (run tools/deps.sh)", python.display()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["bittensor"], surface::NEWER_TABLES_VERSION);
    // Tables that failed to load would make everything "absent".
    assert!(out["tables"]["calls"].as_u64().unwrap() > 100, "{out}");
    out["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = match e["kind"].as_str().unwrap() {
                "call" => Kind::Call,
                "storage" => Kind::Storage,
                "runtime_api" => Kind::RuntimeApi,
                "constant" => Kind::Constant,
                "error" => Kind::Error,
                other => panic!("kind {other}"),
            };
            let k = key(
                kind,
                e["container"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
            );
            (k, e.clone())
        })
        .collect()
}

#[test]
fn the_differences_from_bittensor_11_3_tables_are_the_known_ones() {
    let absent = absent_from_metadata();
    let newer = newer_runtime();
    let mut found = BTreeMap::new();
    for (k, entry) in &newer {
        let in_metadata = !absent.contains(k);
        let difference = match (in_metadata, entry["status"].as_str().unwrap()) {
            (true, "present") => continue,
            (true, "absent") => Difference::OnlyInMetadata,
            (true, "arguments_differ") => Difference::ArgumentsDiffer,
            (true, "types_differ") => Difference::TypesDiffer,
            (true, "index_differs") => Difference::IndexDiffers,
            (false, "present") => Difference::OnlyInNewer,
            (in_metadata, status) => panic!("{k:?}: in metadata {in_metadata}, newer {status}"),
        };
        found.insert(k.clone(), (difference, entry.clone()));
    }
    let known: BTreeMap<Key, Difference> = KNOWN_DIFFERENCES
        .iter()
        .map(|d| (key(d.kind, d.container, d.name), d.difference))
        .collect();
    assert_eq!(known.len(), KNOWN_DIFFERENCES.len(), "duplicate entries");
    // All mismatches at once: a runtime upgrade usually brings several.
    let mut unlisted = Vec::new();
    for (k, (difference, entry)) in &found {
        if known.get(k) != Some(difference) {
            unlisted.push(format!("{k:?}: {} ({entry})", difference.as_str()));
        }
    }
    assert!(
        unlisted.is_empty(),
        "differences not in KNOWN_DIFFERENCES:\n{}",
        unlisted.join("\n")
    );
    let stale: Vec<String> = known
        .iter()
        .filter(|(k, _)| !found.contains_key(*k))
        .map(|(k, d)| format!("{k:?}: {}", d.as_str()))
        .collect();
    assert!(
        stale.is_empty(),
        "KNOWN_DIFFERENCES lists entries that do not differ:\n{}",
        stale.join("\n")
    );
    // Every difference is explained, and the docs' table names it.
    let docs = docs_section();
    for d in KNOWN_DIFFERENCES {
        assert!(!d.why.is_empty(), "{}::{}", d.container, d.name);
        let name = format!("`{}::{}`", d.container, d.name);
        assert!(docs.contains(&name), "{DOCS_SECTION} does not list {name}");
    }
}
