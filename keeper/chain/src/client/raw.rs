//! Storage read by raw key, for items the checked-in metadata (spec 365) does not describe (the
//! stateful epoch schedule of spec 423 and later, the swap pallet's balancer weights) and for
//! reads that take several items in one `state_queryStorageAt`.
//!
//! A map key is `twox128(pallet) ++ twox128(item) ++ hasher(SCALE(key))`; the keys here are
//! `NetUid` (a `u16`, little-endian). Each item's hasher, value type and default are those of
//! `pallets/subtensor/src/lib.rs` and `pallets/swap/src/pallet/mod.rs` at spec 425 (file:line at
//! each item). Before a raw value
//! is decoded, the live runtime's own metadata is checked to declare the same hasher and value
//! type ([`check_entry`]), so a runtime that changed an item fails with a decode error instead of
//! a misread.

use subxt::ext::frame_decode::storage::StorageHasher;

use crate::{Error, Result};

/// The subtensor pallet's storage prefix (its name in `construct_runtime!`, index 7).
pub const SUBTENSOR_PALLET: &str = "SubtensorModule";

/// The value type of a schedule item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `u16`.
    U16,
    /// `u64`.
    U64,
}

/// The swap pallet's storage prefix (`Swap`, index 28).
pub const SWAP_PALLET: &str = "Swap";

/// One per-subnet storage map read by raw key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleItem {
    /// The pallet's storage prefix.
    pub pallet: &'static str,
    /// The storage item's name.
    pub name: &'static str,
    /// How the netuid key is hashed.
    pub hasher: StorageHasher,
    /// The value's type.
    pub value: ValueType,
    /// The `ValueQuery` default, answered when the key holds no value.
    pub default: u64,
}

/// `Tempo`: Identity, `u16`, default `InitialTempo` = 360 (`lib.rs:1809`, `runtime/src/lib.rs:960`).
pub const TEMPO: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "Tempo",
    hasher: StorageHasher::Identity,
    value: ValueType::U16,
    default: 360,
};
/// `LastEpochBlock`: Identity, `u64`, default 0 (`lib.rs:1834`).
pub const LAST_EPOCH_BLOCK: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "LastEpochBlock",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `PendingEpochAt`: Identity, `u64`, default 0 = none (`lib.rs:1840`).
pub const PENDING_EPOCH_AT: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "PendingEpochAt",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `SubnetEpochIndex`: Identity, `u64`, default 0 (`lib.rs:1846`).
pub const SUBNET_EPOCH_INDEX: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "SubnetEpochIndex",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `BlocksSinceLastStep`: Identity, `u64`, default 0 (`lib.rs:1953`).
pub const BLOCKS_SINCE_LAST_STEP: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "BlocksSinceLastStep",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `RevealPeriodEpochs`: Twox64Concat, `u64`, default 1 (`lib.rs:2526`, `lib.rs:882`).
pub const REVEAL_PERIOD_EPOCHS: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "RevealPeriodEpochs",
    hasher: StorageHasher::Twox64Concat,
    value: ValueType::U64,
    default: 1,
};

/// The six items of [`crate::types::EpochSchedule`], in its field order.
pub const SCHEDULE_ITEMS: [ScheduleItem; 6] = [
    TEMPO,
    LAST_EPOCH_BLOCK,
    PENDING_EPOCH_AT,
    SUBNET_EPOCH_INDEX,
    BLOCKS_SINCE_LAST_STEP,
    REVEAL_PERIOD_EPOCHS,
];

/// `SubnetTAO`: Identity, `TaoBalance` (a `u64`), default 0 (`lib.rs:1347`).
pub const SUBNET_TAO: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "SubnetTAO",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `SubnetAlphaIn`: Identity, `AlphaBalance` (a `u64`), default 0 (`lib.rs:1389`).
pub const SUBNET_ALPHA_IN: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "SubnetAlphaIn",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `SubnetAlphaOut`: Identity, `AlphaBalance` (a `u64`), default 0 (`lib.rs:1394`).
pub const SUBNET_ALPHA_OUT: ScheduleItem = ScheduleItem {
    pallet: SUBTENSOR_PALLET,
    name: "SubnetAlphaOut",
    hasher: StorageHasher::Identity,
    value: ValueType::U64,
    default: 0,
};
/// `Swap::SwapBalancer`: Twox64Concat, `Balancer { quote: Perquintill }` (a `u64` of parts of
/// 1e18), default one half (`pallets/swap/src/pallet/mod.rs:109`, `balancer.rs` `Default`).
pub const SWAP_BALANCER: ScheduleItem = ScheduleItem {
    pallet: SWAP_PALLET,
    name: "SwapBalancer",
    hasher: StorageHasher::Twox64Concat,
    value: ValueType::U64,
    default: crate::balancer::ACCURACY / 2,
};
/// `Swap::FeeRate`: Twox64Concat, `u16` (parts of 65 535), default 33 (`mod.rs:90-96`).
pub const FEE_RATE: ScheduleItem = ScheduleItem {
    pallet: SWAP_PALLET,
    name: "FeeRate",
    hasher: StorageHasher::Twox64Concat,
    value: ValueType::U16,
    default: crate::balancer::DEFAULT_FEE_RATE as u64,
};

/// The five items of [`crate::types::SwapPool`], in its field order.
pub const SWAP_POOL_ITEMS: [ScheduleItem; 5] = [
    SUBNET_TAO,
    SUBNET_ALPHA_IN,
    SUBNET_ALPHA_OUT,
    SWAP_BALANCER,
    FEE_RATE,
];

/// `twox128(pallet) ++ twox128(item)`: the prefix of every key of a storage item.
pub fn item_prefix(pallet: &str, item: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&sp_crypto_hashing::twox_128(pallet.as_bytes()));
    out[16..].copy_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
    out
}

/// The full key of a map entry keyed by netuid.
pub fn netuid_key(item: &ScheduleItem, netuid: u16) -> Result<Vec<u8>> {
    let encoded = netuid.to_le_bytes();
    let mut key = item_prefix(item.pallet, item.name).to_vec();
    match item.hasher {
        StorageHasher::Identity => {}
        StorageHasher::Twox64Concat => key.extend_from_slice(&sp_crypto_hashing::twox_64(&encoded)),
        other => {
            return Err(Error::invalid(
                format!("storage item {}", item.name),
                format!("hasher {other:?} is not supported for raw reads"),
            ))
        }
    }
    key.extend_from_slice(&encoded);
    Ok(key)
}

/// Decodes a raw value of an item (`None`: no value stored, the default applies).
pub fn decode_value(item: &ScheduleItem, netuid: u16, raw: Option<&[u8]>) -> Result<u64> {
    let Some(bytes) = raw else {
        return Ok(item.default);
    };
    let what = || format!("{}::{}({netuid})", item.pallet, item.name);
    match item.value {
        ValueType::U16 => <[u8; 2]>::try_from(bytes)
            .map(|b| u64::from(u16::from_le_bytes(b)))
            .map_err(|_| Error::decode(what(), format!("{} bytes for a u16", bytes.len()))),
        ValueType::U64 => <[u8; 8]>::try_from(bytes)
            .map(u64::from_le_bytes)
            .map_err(|_| Error::decode(what(), format!("{} bytes for a u64", bytes.len()))),
    }
}

/// Checks that a runtime's metadata declares `item` as this module reads it: a map with one key,
/// hashed with the expected hasher, over a `u16` key, with the expected value type.
pub fn check_entry(metadata: &subxt::Metadata, item: &ScheduleItem) -> Result<()> {
    use scale_info::{TypeDef, TypeDefPrimitive};
    let what = || format!("{}::{} in the node's metadata", item.pallet, item.name);
    let entry = metadata
        .pallet_by_name(item.pallet)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(item.name))
        .ok_or_else(|| {
            Error::decode(
                what(),
                "absent: the runtime predates the items the client reads (spec 423 and later)",
            )
        })?;
    // `NetUid`, the balance newtypes and `Balancer { quote: Perquintill(u64) }` describe
    // themselves as their inner integer, through up to two single-field wrappers.
    let primitive = |id: u32| {
        let mut id = id;
        for _ in 0..3 {
            match metadata.types().resolve(id).map(|t| &t.type_def) {
                Some(TypeDef::Primitive(p)) => return Some(p.clone()),
                Some(TypeDef::Composite(c)) if c.fields.len() == 1 => id = c.fields.first()?.ty.id,
                _ => return None,
            }
        }
        None
    };
    let keys: Vec<_> = entry.keys().collect();
    let [key] = keys.as_slice() else {
        return Err(Error::decode(
            what(),
            format!("{} keys, expected 1", keys.len()),
        ));
    };
    if key.hasher != item.hasher {
        return Err(Error::decode(
            what(),
            format!("hasher {:?}, expected {:?}", key.hasher, item.hasher),
        ));
    }
    if primitive(key.key_id) != Some(TypeDefPrimitive::U16) {
        return Err(Error::decode(what(), "key is not a u16 netuid"));
    }
    let expected = match item.value {
        ValueType::U16 => TypeDefPrimitive::U16,
        ValueType::U64 => TypeDefPrimitive::U64,
    };
    if primitive(entry.value_ty()) != Some(expected.clone()) {
        return Err(Error::decode(
            what(),
            format!("value is not a {expected:?}"),
        ));
    }
    Ok(())
}

/// The `spec_version` of a runtime metadata's `System::Version` constant (a SCALE
/// `RuntimeVersion`: spec name, impl name, authoring version, spec version, ...).
pub fn metadata_spec_version(metadata: &subxt::Metadata) -> Result<u32> {
    use codec::{Compact, Decode};
    let what = "System::Version in the metadata";
    let constant = metadata
        .pallet_by_name("System")
        .and_then(|p| p.constant_by_name("Version"))
        .ok_or_else(|| Error::decode(what, "absent"))?;
    let mut cursor = constant.value();
    for _ in 0..2 {
        let Compact(len) =
            Compact::<u32>::decode(&mut cursor).map_err(|e| Error::decode(what, e))?;
        let len = usize::try_from(len).map_err(|e| Error::decode(what, e))?;
        cursor = cursor
            .get(len..)
            .ok_or_else(|| Error::decode(what, "truncated name"))?;
    }
    let _authoring = u32::decode(&mut cursor).map_err(|e| Error::decode(what, e))?;
    u32::decode(&mut cursor).map_err(|e| Error::decode(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_metadata_is_spec_365_and_declares_the_old_items_as_read_here() {
        let metadata = super::super::metadata().unwrap();
        assert_eq!(metadata_spec_version(&metadata).unwrap(), 365);
        for item in [TEMPO, BLOCKS_SINCE_LAST_STEP, REVEAL_PERIOD_EPOCHS] {
            check_entry(&metadata, &item).unwrap();
        }
        // The stateful schedule's items came with spec 423.
        for item in [LAST_EPOCH_BLOCK, PENDING_EPOCH_AT, SUBNET_EPOCH_INDEX] {
            let err = check_entry(&metadata, &item).unwrap_err();
            assert!(err.to_string().contains("absent"), "{err}");
        }
        // A wrong expectation is caught.
        let wrong = ScheduleItem {
            hasher: StorageHasher::Identity,
            ..REVEAL_PERIOD_EPOCHS
        };
        assert!(check_entry(&metadata, &wrong)
            .unwrap_err()
            .to_string()
            .contains("hasher"));
        let wide = ScheduleItem {
            value: ValueType::U64,
            ..TEMPO
        };
        assert!(check_entry(&metadata, &wide).is_err());
    }

    #[test]
    fn values_decode_with_defaults_and_exact_lengths() {
        assert_eq!(decode_value(&TEMPO, 1, None).unwrap(), 360);
        assert_eq!(decode_value(&REVEAL_PERIOD_EPOCHS, 1, None).unwrap(), 1);
        assert_eq!(decode_value(&TEMPO, 1, Some(&[0x68, 0x01])).unwrap(), 360);
        assert_eq!(
            decode_value(&LAST_EPOCH_BLOCK, 1, Some(&7_000_123u64.to_le_bytes())).unwrap(),
            7_000_123
        );
        assert!(decode_value(&LAST_EPOCH_BLOCK, 1, Some(&[1, 2])).is_err());
        assert!(decode_value(&TEMPO, 1, Some(&[1, 2, 3])).is_err());
    }
}
