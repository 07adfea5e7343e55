//! The protocol's EIP-712 types (PROTOCOL.md, "EIP-712"): plain serde types for JSON and for the
//! keeper's state, the `sol!` twins that hash them, and the digests keepers sign.
//!
//! JSON shape (the shared vectors' convention): field names as in the EIP-712 type (`qtyPerUnit`),
//! every `uint` as a decimal string, `bytes32` and `address` as `0x` hex. A message tagged with its
//! type is `{"type": "CreationReport", "value": {...}}` ([`Eip712Message`]).
//!
//! Hashing follows EIP-712 exactly: `hashStruct(s) = keccak256(typeHash || encodeData(s))`, an array
//! of structs is the keccak of the concatenated struct hashes, and the digest is
//! `keccak256(0x1901 || domainSeparator || hashStruct(s))` with the domain
//! `{name: "TAO20", version: "1", chainId, verifyingContract}`.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolStruct;
use serde::{Deserialize, Serialize};
use tao20_core::domain::tao20_domain;

use crate::{Error, Result};

/// The `sol!` definitions whose type strings are PROTOCOL.md's, letter for letter.
#[allow(missing_docs, clippy::too_many_arguments)]
pub mod sol {
    alloy_sol_types::sol! {
        struct Asset { uint16 netuid; uint64 qtyPerUnit; uint16 weightBps; }
        struct CreationFile {
            uint64 epochId;
            uint64 validFromBlock;
            uint64 validUntilBlock;
            uint256 sharesPerUnit;
            uint16 toleranceBps;
            uint32 minUnits;
            Asset[] assets;
            uint64 signerSetVersion;
        }
        struct Position { uint16 netuid; bytes32 hotkey; uint64 amount; }
        struct CreationReport {
            bytes32 requestId;
            uint64 epochId;
            bytes32 creationFileHash;
            address receiver;
            uint32 units;
            Position[] positions;
            uint64 deliveryBlock;
            uint32 deliveryIndex;
            uint256 valueRao;
            uint256 navPerShare;
            uint64 signerSetVersion;
        }
        struct RefundReport {
            bytes32 requestId;
            bytes32 coldkey;
            Position[] positions;
            uint64 deliveryBlock;
            uint32 deliveryIndex;
            uint64 signerSetVersion;
        }
        struct Sweep { Position[] positions; uint64 nonce; uint64 signerSetVersion; }
    }
}

/// The primary type strings of PROTOCOL.md (referenced types are appended when encoding).
pub const TYPE_STRINGS: [(&str, &str); 6] = [
    ("Asset", "Asset(uint16 netuid,uint64 qtyPerUnit,uint16 weightBps)"),
    ("CreationFile", "CreationFile(uint64 epochId,uint64 validFromBlock,uint64 validUntilBlock,uint256 sharesPerUnit,uint16 toleranceBps,uint32 minUnits,Asset[] assets,uint64 signerSetVersion)"),
    ("Position", "Position(uint16 netuid,bytes32 hotkey,uint64 amount)"),
    ("CreationReport", "CreationReport(bytes32 requestId,uint64 epochId,bytes32 creationFileHash,address receiver,uint32 units,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint256 valueRao,uint256 navPerShare,uint64 signerSetVersion)"),
    ("RefundReport", "RefundReport(bytes32 requestId,bytes32 coldkey,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint64 signerSetVersion)"),
    ("Sweep", "Sweep(Position[] positions,uint64 nonce,uint64 signerSetVersion)"),
];

/// One asset of a creation file: `qtyPerUnit` rao of alpha of `netuid` per creation unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Asset {
    /// The subnet.
    #[serde(with = "crate::dec")]
    pub netuid: u16,
    /// Rao of alpha per creation unit.
    #[serde(with = "crate::dec")]
    pub qty_per_unit: u64,
    /// The index weight, basis points.
    #[serde(with = "crate::dec")]
    pub weight_bps: u16,
}

/// The creation file of one epoch (PROTOCOL.md, "Epochs, index and creation file").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreationFile {
    /// The epoch.
    #[serde(with = "crate::dec")]
    pub epoch_id: u64,
    /// First block of the epoch.
    #[serde(with = "crate::dec")]
    pub valid_from_block: u64,
    /// Last block of the epoch (inclusive).
    #[serde(with = "crate::dec")]
    pub valid_until_block: u64,
    /// Shares per creation unit, 18 decimals (1000e18 by default).
    #[serde(with = "crate::dec")]
    pub shares_per_unit: U256,
    /// Delivery tolerance, basis points.
    #[serde(with = "crate::dec")]
    pub tolerance_bps: u16,
    /// Smallest number of units a request may ask for.
    #[serde(with = "crate::dec")]
    pub min_units: u32,
    /// The basket, sorted by netuid.
    pub assets: Vec<Asset>,
    /// The signer set the file is signed under.
    #[serde(with = "crate::dec")]
    pub signer_set_version: u64,
}

/// Alpha of one subnet under one hotkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Position {
    /// The subnet.
    #[serde(with = "crate::dec")]
    pub netuid: u16,
    /// The hotkey the stake sits under.
    pub hotkey: B256,
    /// Rao of alpha.
    #[serde(with = "crate::dec")]
    pub amount: u64,
}

/// The report that lets `mint` create shares for a valid delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreationReport {
    /// The request.
    pub request_id: B256,
    /// The request's epoch.
    #[serde(with = "crate::dec")]
    pub epoch_id: u64,
    /// `hashStruct` of the epoch's creation file.
    pub creation_file_hash: B256,
    /// Receiver of the shares (from the request).
    pub receiver: Address,
    /// Units requested.
    #[serde(with = "crate::dec")]
    pub units: u32,
    /// Delivered positions, sorted by (netuid, hotkey).
    pub positions: Vec<Position>,
    /// Block of the delivery extrinsic.
    #[serde(with = "crate::dec")]
    pub delivery_block: u64,
    /// Index of the delivery extrinsic in its block.
    #[serde(with = "crate::dec")]
    pub delivery_index: u32,
    /// Value of the delivery at the valuation block, rao.
    #[serde(with = "crate::dec")]
    pub value_rao: U256,
    /// NAV per share at the valuation block, rao per whole share.
    #[serde(with = "crate::dec")]
    pub nav_per_share: U256,
    /// The signer set the report is signed under.
    #[serde(with = "crate::dec")]
    pub signer_set_version: u64,
}

/// The report that returns an invalid delivery or an orphan to its coldkey.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundReport {
    /// The request of an invalid delivery; zero for an orphan.
    pub request_id: B256,
    /// The coldkey that receives the positions.
    pub coldkey: B256,
    /// The positions, sorted by (netuid, hotkey).
    pub positions: Vec<Position>,
    /// Block of the delivery extrinsic.
    #[serde(with = "crate::dec")]
    pub delivery_block: u64,
    /// Index of the delivery extrinsic in its block.
    #[serde(with = "crate::dec")]
    pub delivery_index: u32,
    /// The signer set the report is signed under.
    #[serde(with = "crate::dec")]
    pub signer_set_version: u64,
}

/// A sweep of stray stake onto the fund hotkeys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sweep {
    /// The stray positions, sorted by (netuid, hotkey).
    pub positions: Vec<Position>,
    /// The sweep's nonce.
    #[serde(with = "crate::dec")]
    pub nonce: u64,
    /// The signer set the sweep is signed under.
    #[serde(with = "crate::dec")]
    pub signer_set_version: u64,
}

/// Any EIP-712 message of the protocol, tagged by its type name: `{"type": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", deny_unknown_fields)]
pub enum Eip712Message {
    /// An `Asset`.
    Asset(Asset),
    /// A `CreationFile`.
    CreationFile(CreationFile),
    /// A `Position`.
    Position(Position),
    /// A `CreationReport`.
    CreationReport(CreationReport),
    /// A `RefundReport`.
    RefundReport(RefundReport),
    /// A `Sweep`.
    Sweep(Sweep),
}

impl From<&Asset> for sol::Asset {
    fn from(a: &Asset) -> Self {
        Self {
            netuid: a.netuid,
            qtyPerUnit: a.qty_per_unit,
            weightBps: a.weight_bps,
        }
    }
}

impl From<&Position> for sol::Position {
    fn from(p: &Position) -> Self {
        Self {
            netuid: p.netuid,
            hotkey: p.hotkey,
            amount: p.amount,
        }
    }
}

fn sol_positions(ps: &[Position]) -> Vec<sol::Position> {
    ps.iter().map(sol::Position::from).collect()
}

impl From<&CreationFile> for sol::CreationFile {
    fn from(f: &CreationFile) -> Self {
        Self {
            epochId: f.epoch_id,
            validFromBlock: f.valid_from_block,
            validUntilBlock: f.valid_until_block,
            sharesPerUnit: f.shares_per_unit,
            toleranceBps: f.tolerance_bps,
            minUnits: f.min_units,
            assets: f.assets.iter().map(sol::Asset::from).collect(),
            signerSetVersion: f.signer_set_version,
        }
    }
}

impl From<&CreationReport> for sol::CreationReport {
    fn from(r: &CreationReport) -> Self {
        Self {
            requestId: r.request_id,
            epochId: r.epoch_id,
            creationFileHash: r.creation_file_hash,
            receiver: r.receiver,
            units: r.units,
            positions: sol_positions(&r.positions),
            deliveryBlock: r.delivery_block,
            deliveryIndex: r.delivery_index,
            valueRao: r.value_rao,
            navPerShare: r.nav_per_share,
            signerSetVersion: r.signer_set_version,
        }
    }
}

impl From<&RefundReport> for sol::RefundReport {
    fn from(r: &RefundReport) -> Self {
        Self {
            requestId: r.request_id,
            coldkey: r.coldkey,
            positions: sol_positions(&r.positions),
            deliveryBlock: r.delivery_block,
            deliveryIndex: r.delivery_index,
            signerSetVersion: r.signer_set_version,
        }
    }
}

impl From<&Sweep> for sol::Sweep {
    fn from(s: &Sweep) -> Self {
        Self {
            positions: sol_positions(&s.positions),
            nonce: s.nonce,
            signerSetVersion: s.signer_set_version,
        }
    }
}

/// Positions must be strictly increasing by (netuid, hotkey): sorted, no duplicates.
pub fn check_positions(list: &'static str, positions: &[Position]) -> Result<()> {
    for (i, w) in positions.windows(2).enumerate() {
        if let [a, b] = w {
            if (a.netuid, a.hotkey) >= (b.netuid, b.hotkey) {
                return Err(Error::Unsorted { list, index: i + 1 });
            }
        }
    }
    Ok(())
}

/// Assets must be strictly increasing by netuid.
pub fn check_assets(assets: &[Asset]) -> Result<()> {
    for (i, w) in assets.windows(2).enumerate() {
        if let [a, b] = w {
            if a.netuid >= b.netuid {
                return Err(Error::Unsorted {
                    list: "assets",
                    index: i + 1,
                });
            }
        }
    }
    Ok(())
}

fn hashes<T: SolStruct>(s: &T, chain_id: u64, contract: Address) -> Hashes {
    Hashes {
        type_hash: s.eip712_type_hash(),
        struct_hash: s.eip712_hash_struct(),
        digest: s.eip712_signing_hash(&tao20_domain(chain_id, contract)),
    }
}

/// The hashes of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hashes {
    /// `keccak256(encodeType)`.
    pub type_hash: B256,
    /// `hashStruct(message)`.
    pub struct_hash: B256,
    /// The EIP-712 digest a signer signs.
    pub digest: B256,
}

impl Eip712Message {
    /// The EIP-712 type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Asset(_) => "Asset",
            Self::CreationFile(_) => "CreationFile",
            Self::Position(_) => "Position",
            Self::CreationReport(_) => "CreationReport",
            Self::RefundReport(_) => "RefundReport",
            Self::Sweep(_) => "Sweep",
        }
    }

    /// Checks the ordering rules the contract enforces (assets by netuid, positions by
    /// (netuid, hotkey), no duplicates); a keeper never signs a message that breaks them.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Asset(_) | Self::Position(_) => Ok(()),
            Self::CreationFile(f) => check_assets(&f.assets),
            Self::CreationReport(r) => check_positions("positions", &r.positions),
            Self::RefundReport(r) => check_positions("positions", &r.positions),
            Self::Sweep(s) => check_positions("positions", &s.positions),
        }
    }

    /// Type hash, struct hash and digest under the TAO20 domain of `chain_id` and `contract`.
    pub fn hashes(&self, chain_id: u64, contract: Address) -> Hashes {
        match self {
            Self::Asset(a) => hashes(&sol::Asset::from(a), chain_id, contract),
            Self::CreationFile(f) => hashes(&sol::CreationFile::from(f), chain_id, contract),
            Self::Position(p) => hashes(&sol::Position::from(p), chain_id, contract),
            Self::CreationReport(r) => hashes(&sol::CreationReport::from(r), chain_id, contract),
            Self::RefundReport(r) => hashes(&sol::RefundReport::from(r), chain_id, contract),
            Self::Sweep(s) => hashes(&sol::Sweep::from(s), chain_id, contract),
        }
    }

    /// `hashStruct(message)` (independent of the domain).
    pub fn struct_hash(&self) -> B256 {
        match self {
            Self::Asset(a) => sol::Asset::from(a).eip712_hash_struct(),
            Self::CreationFile(f) => sol::CreationFile::from(f).eip712_hash_struct(),
            Self::Position(p) => sol::Position::from(p).eip712_hash_struct(),
            Self::CreationReport(r) => sol::CreationReport::from(r).eip712_hash_struct(),
            Self::RefundReport(r) => sol::RefundReport::from(r).eip712_hash_struct(),
            Self::Sweep(s) => sol::Sweep::from(s).eip712_hash_struct(),
        }
    }

    /// The digest a signer signs.
    pub fn digest(&self, chain_id: u64, contract: Address) -> B256 {
        self.hashes(chain_id, contract).digest
    }

    /// The same message with `signerSetVersion` set to `version` (a no-op for `Asset` and
    /// `Position`, which carry none).
    pub fn with_signer_set_version(&self, version: u64) -> Self {
        let mut m = self.clone();
        match &mut m {
            Self::Asset(_) | Self::Position(_) => {}
            Self::CreationFile(f) => f.signer_set_version = version,
            Self::CreationReport(r) => r.signer_set_version = version,
            Self::RefundReport(r) => r.signer_set_version = version,
            Self::Sweep(s) => s.signer_set_version = version,
        }
        m
    }
}

/// The full `encodeType` of a protocol type (referenced types appended in name order), or `None`
/// for an unknown name.
pub fn encode_type(type_name: &str) -> Option<String> {
    let s = match type_name {
        "Asset" => sol::Asset::eip712_encode_type(),
        "CreationFile" => sol::CreationFile::eip712_encode_type(),
        "Position" => sol::Position::eip712_encode_type(),
        "CreationReport" => sol::CreationReport::eip712_encode_type(),
        "RefundReport" => sol::RefundReport::eip712_encode_type(),
        "Sweep" => sol::Sweep::eip712_encode_type(),
        _ => return None,
    };
    Some(s.into_owned())
}

/// `hashStruct` of a creation file: the `creationFileHash` a creation report carries.
pub fn creation_file_hash(file: &CreationFile) -> B256 {
    sol::CreationFile::from(file).eip712_hash_struct()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn type_strings_are_protocol_md_verbatim() {
        for (name, primary) in TYPE_STRINGS {
            let full = encode_type(name).unwrap();
            assert!(full.starts_with(primary), "{name}: {full}");
            let referenced = match name {
                "CreationFile" => TYPE_STRINGS[0].1,
                "CreationReport" | "RefundReport" | "Sweep" => TYPE_STRINGS[2].1,
                _ => "",
            };
            assert_eq!(full, format!("{primary}{referenced}"));
        }
        assert_eq!(
            sol::Asset::eip712_type_hash(&sol::Asset::from(&Asset {
                netuid: 1,
                qty_per_unit: 2,
                weight_bps: 3
            })),
            keccak256(TYPE_STRINGS[0].1)
        );
        assert!(encode_type("Nope").is_none());
    }

    #[test]
    fn unsorted_lists_are_rejected() {
        let p = |netuid, h: u8, amount| Position {
            netuid,
            hotkey: B256::repeat_byte(h),
            amount,
        };
        let sweep = |positions| {
            Eip712Message::Sweep(Sweep {
                positions,
                nonce: 0,
                signer_set_version: 1,
            })
        };
        assert!(sweep(vec![p(1, 1, 5), p(1, 2, 5), p(2, 0, 1)])
            .validate()
            .is_ok());
        assert_eq!(
            sweep(vec![p(2, 1, 5), p(1, 2, 5)]).validate(),
            Err(Error::Unsorted {
                list: "positions",
                index: 1
            })
        );
        assert!(sweep(vec![p(1, 1, 5), p(1, 1, 6)]).validate().is_err());
    }

    #[test]
    fn json_round_trip_uses_decimal_strings() {
        let m = Eip712Message::Position(Position {
            netuid: 7,
            hotkey: B256::repeat_byte(0xab),
            amount: 123,
        });
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"amount\":\"123\""), "{text}");
        assert_eq!(serde_json::from_str::<Eip712Message>(&text).unwrap(), m);
    }
}
