//! The metadata the node serves: the checked-in V16 file with the items the simulator models
//! beyond it, and the same as V15 for the clients that ask for V15 (`async-substrate-interface`,
//! `@polkadot/api`), as a node serves every version its runtime supports.

use codec::{Decode, Encode};
use scale_info::{form::PortableForm, TypeDef};
use subxt::ext::frame_metadata::{
    v15, v16, v16::RuntimeMetadataV16, RuntimeMetadata, RuntimeMetadataPrefixed, META_RESERVED,
};

use crate::{Error, Result};

/// The runtime items of spec 423 the checked-in metadata (spec 365) lacks, which the simulator
/// models: the stateful epoch schedule. Each is declared like `BlocksSinceLastStep` (a map from
/// netuid, Identity-hashed, to a `u64` defaulting to 0), as spec 423 declares them.
const SCHEDULE_ITEMS_ADDED: [&str; 3] = ["LastEpochBlock", "PendingEpochAt", "SubnetEpochIndex"];

/// The metadata the node serves: the checked-in file with [`SCHEDULE_ITEMS_ADDED`] declared, so
/// a client reads the epoch schedule as it would from a spec-423 node.
pub(super) fn served_v16() -> Result<RuntimeMetadataV16> {
    let what = "metadata/finney.scale";
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &crate::client::METADATA[..])
        .map_err(|e| Error::decode(what, e))?;
    let RuntimeMetadata::V16(mut m) = prefixed.1 else {
        return Err(Error::decode(what, "not metadata V16"));
    };
    let storage = m
        .pallets
        .iter_mut()
        .find(|p| p.name == crate::client::raw::SUBTENSOR_PALLET)
        .and_then(|p| p.storage.as_mut())
        .ok_or_else(|| Error::decode(what, "no SubtensorModule storage"))?;
    let template = storage
        .entries
        .iter()
        .find(|e| e.name == "BlocksSinceLastStep")
        .cloned()
        .ok_or_else(|| Error::decode(what, "no SubtensorModule::BlocksSinceLastStep"))?;
    for name in SCHEDULE_ITEMS_ADDED {
        if storage.entries.iter().all(|e| e.name != name) {
            let mut entry = template.clone();
            entry.name = name.to_string();
            entry.docs = vec![format!("{name} (spec 423), declared by the TAO20 devnet.")];
            storage.entries.push(entry);
        }
    }
    add_swap_balancer(&mut m)?;
    add_errors(
        &mut m,
        crate::client::raw::SUBTENSOR_PALLET,
        &LOCK_ERRORS_ADDED,
    )?;
    Ok(m)
}

/// The stake-lock errors (`staking/lock.rs`, spec 425) the simulator raises, which spec 365's
/// error enum lacks. They are appended after its last index: the node names a module error by
/// its own metadata and so does the client, so the numbering only has to agree with itself (the
/// real runtime numbers them 74, 134, 135 and 145).
const LOCK_ERRORS_ADDED: [&str; 4] = [
    "StakeUnavailable",
    "LockHotkeyMismatch",
    "InsufficientStakeForLock",
    "AccountRejectsLockedAlpha",
];

/// Appends `names` to `pallet`'s error enum where absent.
fn add_errors(m: &mut RuntimeMetadataV16, pallet: &str, names: &[&str]) -> Result<()> {
    let what = "metadata/finney.scale";
    let ty = m
        .pallets
        .iter()
        .find(|p| p.name == pallet)
        .and_then(|p| p.error.as_ref())
        .map(|e| e.ty.id)
        .ok_or_else(|| Error::decode(what, format!("no {pallet} error enum")))?;
    let entry = m
        .types
        .types
        .iter_mut()
        .find(|t| t.id == ty)
        .ok_or_else(|| {
            Error::decode(
                what,
                format!("{pallet} error type {ty} not in the registry"),
            )
        })?;
    let TypeDef::Variant(enum_) = &mut entry.ty.type_def else {
        return Err(Error::decode(
            what,
            format!("{pallet} errors are not an enum"),
        ));
    };
    for name in names {
        if enum_.variants.iter().any(|v| v.name == *name) {
            continue;
        }
        let index = enum_
            .variants
            .iter()
            .map(|v| v.index)
            .max()
            .map_or(Some(0), |i| i.checked_add(1))
            .ok_or_else(|| Error::decode(what, format!("{pallet} error enum is full")))?;
        enum_.variants.push(scale_info::Variant {
            name: (*name).to_string(),
            fields: Vec::new(),
            index,
            docs: vec![format!("{name} (spec 425), declared by the TAO20 devnet.")],
        });
    }
    Ok(())
}

/// Declares `Swap::SwapBalancer` (the balancer pools' weights, newer than spec 365) as the
/// swap pallet declares it: a `Twox64Concat` map from `NetUid` to
/// `Balancer { quote: Perquintill }`, defaulting to one half. The key type and hasher are taken
/// from `Swap::FeeRate`, a map of the same shape the file already has.
fn add_swap_balancer(m: &mut RuntimeMetadataV16) -> Result<()> {
    use scale_info::{Field, Path, PortableType, Type, TypeDefComposite, TypeDefPrimitive};
    let what = "metadata/finney.scale";
    let u64_id = m
        .types
        .types
        .iter()
        .find(|t| matches!(t.ty.type_def, TypeDef::Primitive(TypeDefPrimitive::U64)))
        .map(|t| t.id)
        .ok_or_else(|| Error::decode(what, "no u64 type"))?;
    let next_id = |m: &RuntimeMetadataV16| {
        m.types
            .types
            .iter()
            .map(|t| t.id)
            .max()
            .map_or(0, |id| id + 1)
    };
    let composite = |path: &[&str], field: &str, ty: u32, type_name: &str| Type::<PortableForm> {
        path: Path {
            segments: path.iter().map(|s| (*s).to_string()).collect(),
        },
        type_params: Vec::new(),
        type_def: TypeDef::Composite(TypeDefComposite {
            fields: vec![Field {
                name: (!field.is_empty()).then(|| field.to_string()),
                ty: sym(ty),
                type_name: Some(type_name.to_string()),
                docs: Vec::new(),
            }],
        }),
        docs: Vec::new(),
    };
    let per_path = ["sp_arithmetic", "per_things", "Perquintill"];
    let perquintill = match m
        .types
        .types
        .iter()
        .find(|t| t.ty.path.segments.iter().map(String::as_str).eq(per_path))
    {
        Some(t) => t.id,
        None => {
            let id = next_id(m);
            m.types.types.push(PortableType {
                id,
                ty: composite(&per_path, "", u64_id, "u64"),
            });
            id
        }
    };
    let balancer = next_id(m);
    m.types.types.push(PortableType {
        id: balancer,
        ty: composite(
            &["pallet_subtensor_swap", "pallet", "balancer", "Balancer"],
            "quote",
            perquintill,
            "Perquintill",
        ),
    });
    let storage = m
        .pallets
        .iter_mut()
        .find(|p| p.name == crate::client::raw::SWAP_PALLET)
        .and_then(|p| p.storage.as_mut())
        .ok_or_else(|| Error::decode(what, "no Swap storage"))?;
    if storage.entries.iter().any(|e| e.name == "SwapBalancer") {
        return Ok(());
    }
    let mut entry = storage
        .entries
        .iter()
        .find(|e| e.name == "FeeRate")
        .cloned()
        .ok_or_else(|| Error::decode(what, "no Swap::FeeRate"))?;
    let v16::StorageEntryType::Map { value, .. } = &mut entry.ty else {
        return Err(Error::decode(what, "Swap::FeeRate is not a map"));
    };
    *value = sym(balancer);
    entry.name = "SwapBalancer".to_string();
    entry.default = (crate::balancer::ACCURACY / 2).encode();
    entry.docs = vec!["SwapBalancer (the balancer pools), declared by the TAO20 devnet.".into()];
    storage.entries.push(entry);
    Ok(())
}

fn sym(id: u32) -> <PortableForm as scale_info::form::Form>::Type {
    id.into()
}

/// V16 as V15: the same type registry and items; V15's runtime type and extensions tuple are
/// found in the registry, its signed extensions are V16's transaction extensions of version 0.
pub(super) fn as_v15(m: &RuntimeMetadataV16) -> Result<RuntimeMetadataV15> {
    let types = &m.types;
    let runtime_ty = types
        .types
        .iter()
        .find(|t| {
            t.ty.path.segments.last().is_some_and(|s| s == "Runtime")
                && t.ty.path.segments.len() == 2
        })
        .map(|t| t.id)
        .ok_or_else(|| Error::decode("metadata", "no Runtime type"))?;
    // The extensions of transaction-extension version 0, the only one v4 extrinsics carry.
    let extensions: Vec<_> = m
        .extrinsic
        .transaction_extensions_by_version
        .get(&0)
        .map(|ids| {
            ids.iter()
                .filter_map(|i| m.extrinsic.transaction_extensions.get(i.0 as usize))
                .collect()
        })
        .unwrap_or_default();
    // The extrinsic type's `Extra` parameter: V16 names the extensions' own types, where the
    // runtime may wrap one (subtensor wraps `ChargeTransactionPayment`) with the same encoding.
    let extra_ty = types
        .types
        .iter()
        .filter(|t| {
            t.ty.path
                .segments
                .last()
                .is_some_and(|s| s == "UncheckedExtrinsic")
        })
        .flat_map(|t| t.ty.type_params.iter())
        .find(|p| p.name == "Extra")
        .and_then(|p| p.ty)
        .map(|t| t.id)
        .filter(|id| {
            types.resolve(*id).is_some_and(
                |t| matches!(&t.type_def, TypeDef::Tuple(tu) if tu.fields.len() == extensions.len()),
            )
        })
        .ok_or_else(|| Error::decode("metadata", "no extrinsic Extra type"))?;
    let signed_extensions = extensions
        .iter()
        .map(|e| v15::SignedExtensionMetadata {
            identifier: e.identifier.clone(),
            ty: e.ty,
            additional_signed: e.implicit,
        })
        .collect();
    Ok(RuntimeMetadataV15 {
        types: m.types.clone(),
        pallets: m
            .pallets
            .iter()
            .map(|p| v15::PalletMetadata {
                name: p.name.clone(),
                storage: p.storage.as_ref().map(|s| v15::PalletStorageMetadata {
                    prefix: s.prefix.clone(),
                    entries: s
                        .entries
                        .iter()
                        .map(|e| v15::StorageEntryMetadata {
                            name: e.name.clone(),
                            modifier: e.modifier.clone(),
                            ty: e.ty.clone(),
                            default: e.default.clone(),
                            docs: e.docs.clone(),
                        })
                        .collect(),
                }),
                calls: p
                    .calls
                    .as_ref()
                    .map(|c| v15::PalletCallMetadata { ty: c.ty }),
                event: p
                    .event
                    .as_ref()
                    .map(|c| v15::PalletEventMetadata { ty: c.ty }),
                constants: p
                    .constants
                    .iter()
                    .map(|c| v15::PalletConstantMetadata {
                        name: c.name.clone(),
                        ty: c.ty,
                        value: c.value.clone(),
                        docs: c.docs.clone(),
                    })
                    .collect(),
                error: p
                    .error
                    .as_ref()
                    .map(|c| v15::PalletErrorMetadata { ty: c.ty }),
                index: p.index,
                docs: p.docs.clone(),
            })
            .collect(),
        extrinsic: v15::ExtrinsicMetadata {
            version: 4,
            address_ty: m.extrinsic.address_ty,
            call_ty: m.extrinsic.call_ty,
            signature_ty: m.extrinsic.signature_ty,
            extra_ty: sym(extra_ty),
            signed_extensions,
        },
        ty: sym(runtime_ty),
        apis: m
            .apis
            .iter()
            .map(|a| v15::RuntimeApiMetadata {
                name: a.name.clone(),
                methods: a
                    .methods
                    .iter()
                    .map(|x| v15::RuntimeApiMethodMetadata {
                        name: x.name.clone(),
                        inputs: x.inputs.clone(),
                        output: x.output,
                        docs: x.docs.clone(),
                    })
                    .collect(),
                docs: a.docs.clone(),
            })
            .collect(),
        outer_enums: m.outer_enums.clone(),
        custom: m.custom.clone(),
    })
}

use v15::RuntimeMetadataV15;

/// The served metadata, prefixed and encoded, by version (V15 and V16).
pub(super) fn served() -> Result<(Vec<u8>, Vec<u8>)> {
    let v16 = served_v16()?;
    let v15 = as_v15(&v16)?;
    Ok((
        RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V15(v15)).encode(),
        RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V16(v16)).encode(),
    ))
}
