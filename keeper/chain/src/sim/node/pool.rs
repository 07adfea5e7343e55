//! Extrinsic submission, validated as the runtime validates a signed v4 extrinsic before it
//! enters the pool: the extensions' payload (mortality, nonce, tip, metadata-hash mode), the
//! sr25519 signature over `call ++ extra ++ additional` (spec and transaction version, genesis
//! hash, the era's birth block hash), the nonce against the account's. A valid extrinsic is
//! applied in a block of its own, as the simulator applies every write, and its exact bytes are
//! that block's body.
//!
//! Not modelled: fees (nothing is charged), a pool of future-nonce transactions (a nonce ahead of
//! the account's is refused as "valid in the future"). Of subtensor's transaction extension, the
//! weights guards are modelled (`Simulator::weights_refusal`); its other call checks are not.

use std::collections::{BTreeMap, HashMap};

use codec::{Compact, Decode};

use crate::types::{AccountId, BlockNumber, Bytes32, Call};

/// Why the node refuses an extrinsic, in the shapes a node answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// `InvalidTransaction::*` (JSON-RPC 1010, "Invalid Transaction", the reason as data).
    Invalid(&'static str),
    /// `InvalidTransaction::Custom(n)`: subtensor's transaction extension refused the call
    /// (JSON-RPC 1010, data "Custom error: n").
    Custom(u8),
    /// Not decodable as an extrinsic of this runtime (JSON-RPC 1002, "Verification Error").
    Undecodable(String),
    /// The simulator could not apply it (JSON-RPC internal error).
    Internal(String),
}

pub(super) const BAD_PROOF: &str = "Transaction has a bad signature";
pub(super) const STALE: &str = "Transaction is outdated";
pub(super) const FUTURE: &str = "Transaction will be valid in the future";
pub(super) const ANCIENT: &str = "Transaction has an ancient birth block";
pub(super) const UNSIGNED: &str = "Transaction call is not expected";

/// A signed extrinsic taken apart.
#[derive(Debug)]
pub(super) struct Signed {
    pub signer: AccountId,
    pub signature: [u8; 64],
    pub era: Era,
    pub nonce: u32,
    /// `extra` as encoded (the part of the signed payload the extrinsic carries).
    pub extra: Vec<u8>,
    pub metadata_hash_mode: u8,
    pub call: Vec<u8>,
}

/// `sp_runtime::generic::Era`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Era {
    Immortal,
    Mortal { period: u64, phase: u64 },
}

impl Era {
    fn decode(input: &mut &[u8]) -> Result<Self, Refusal> {
        let first = u8::decode(input).map_err(|e| undecodable("era", e))?;
        if first == 0 {
            return Ok(Era::Immortal);
        }
        let second = u8::decode(input).map_err(|e| undecodable("era", e))?;
        let encoded = u64::from(first) | (u64::from(second) << 8);
        let period = 2u64 << (encoded % 16);
        let quantize = (period >> 12).max(1);
        let phase = (encoded >> 4) * quantize;
        if period < 4 || phase >= period {
            return Err(Refusal::Undecodable(format!(
                "era: period {period}, phase {phase}"
            )));
        }
        Ok(Era::Mortal { period, phase })
    }

    /// The block whose hash the signature covers, for a transaction validated at `current`.
    pub fn birth(&self, current: BlockNumber) -> BlockNumber {
        match *self {
            Era::Immortal => 0,
            Era::Mortal { period, phase } => (current.max(phase) - phase) / period * period + phase,
        }
    }
}

fn undecodable(what: &str, e: impl std::fmt::Display) -> Refusal {
    Refusal::Undecodable(format!("Could not decode `{what}`: {e}"))
}

/// Splits an encoded extrinsic (with its length prefix). The extensions carrying a payload are
/// those of the checked-in metadata's `UncheckedExtrinsic`, in its order: `CheckMortality` (era),
/// `CheckNonce` (compact u32), `ChargeTransactionPaymentWrapper` (compact tip), and
/// `CheckMetadataHash` (mode byte).
pub(super) fn decode(bytes: &[u8]) -> Result<Signed, Refusal> {
    let mut input = bytes;
    let Compact(len) =
        Compact::<u32>::decode(&mut input).map_err(|e| undecodable("extrinsic length", e))?;
    if usize::try_from(len).ok() != Some(input.len()) {
        return Err(Refusal::Undecodable(format!(
            "extrinsic length prefix {len}, {} bytes follow",
            input.len()
        )));
    }
    let version = u8::decode(&mut input).map_err(|e| undecodable("version", e))?;
    match version {
        0x84 => {}
        0x04 => return Err(Refusal::Invalid(UNSIGNED)),
        v => {
            return Err(Refusal::Undecodable(format!(
                "extrinsic version byte {v:#04x}: only signed v4 (0x84) is accepted"
            )))
        }
    }
    let address_kind = u8::decode(&mut input).map_err(|e| undecodable("address", e))?;
    if address_kind != 0 {
        return Err(Refusal::Undecodable(format!(
            "address variant {address_kind}: only MultiAddress::Id"
        )));
    }
    let signer = <[u8; 32]>::decode(&mut input).map_err(|e| undecodable("address", e))?;
    let sig_kind = u8::decode(&mut input).map_err(|e| undecodable("signature", e))?;
    if sig_kind != 1 {
        // Ed25519 and ECDSA signatures decode, but dev and bittensor keys are sr25519.
        return Err(Refusal::Invalid(BAD_PROOF));
    }
    let signature = <[u8; 64]>::decode(&mut input).map_err(|e| undecodable("signature", e))?;
    let extra_start = input;
    let era = Era::decode(&mut input)?;
    let Compact(nonce) = Compact::<u32>::decode(&mut input).map_err(|e| undecodable("nonce", e))?;
    let Compact(_tip) = Compact::<u64>::decode(&mut input).map_err(|e| undecodable("tip", e))?;
    let metadata_hash_mode =
        u8::decode(&mut input).map_err(|e| undecodable("metadata hash mode", e))?;
    let extra = extra_start[..extra_start.len() - input.len()].to_vec();
    Ok(Signed {
        signer: Bytes32(signer),
        signature,
        era,
        nonce,
        extra,
        metadata_hash_mode,
        call: input.to_vec(),
    })
}

/// What the signature covers: `call ++ extra ++ additional`, hashed with blake2-256 when longer
/// than 256 bytes. `additional`: spec version, transaction version, genesis hash, birth block
/// hash, and `CheckMetadataHash`'s `Option<[u8; 32]>` (none when the mode is disabled).
pub(super) fn payload(
    s: &Signed,
    spec_version: u32,
    transaction_version: u32,
    genesis: &[u8; 32],
    birth: &[u8; 32],
) -> Vec<u8> {
    let mut p = s.call.clone();
    p.extend_from_slice(&s.extra);
    p.extend_from_slice(&spec_version.to_le_bytes());
    p.extend_from_slice(&transaction_version.to_le_bytes());
    p.extend_from_slice(genesis);
    p.extend_from_slice(birth);
    p.push(0x00);
    if p.len() > 256 {
        sp_crypto_hashing::blake2_256(&p).to_vec()
    } else {
        p
    }
}

/// Whether `signature` is `signer`'s sr25519 signature of `message` (substrate's context).
pub(super) fn verify(signer: &AccountId, signature: &[u8; 64], message: &[u8]) -> bool {
    use subxt_signer::sr25519::{verify, PublicKey, Signature};
    verify(&Signature(*signature), message, &PublicKey(signer.0))
}

/// Nonces and the bytes of the extrinsics the node applied.
#[derive(Debug, Default)]
pub(super) struct Pool {
    /// Per account, the nonce from each block on at which it changed.
    nonces: HashMap<AccountId, BTreeMap<BlockNumber, u32>>,
    /// `(block, position among the simulator's extrinsics of that block)` -> submitted bytes.
    bytes: HashMap<(BlockNumber, usize), Vec<u8>>,
}

impl Pool {
    /// The account's nonce at the end of block `at`.
    pub fn nonce_at(&self, who: &AccountId, at: BlockNumber) -> u32 {
        self.nonces
            .get(who)
            .and_then(|m| m.range(..=at).next_back())
            .map_or(0, |(_, n)| *n)
    }

    /// The nonce check of `CheckNonce` against the account's nonce at the best block.
    pub fn check_nonce(
        &self,
        who: &AccountId,
        best: BlockNumber,
        nonce: u32,
    ) -> Result<(), Refusal> {
        let expected = self.nonce_at(who, best);
        match nonce.cmp(&expected) {
            std::cmp::Ordering::Less => Err(Refusal::Invalid(STALE)),
            std::cmp::Ordering::Greater => Err(Refusal::Invalid(FUTURE)),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// Records an applied extrinsic: its bytes in its block, and the signer's next nonce.
    pub fn applied(
        &mut self,
        who: AccountId,
        block: BlockNumber,
        position: usize,
        nonce: u32,
        bytes: Vec<u8>,
    ) {
        self.nonces
            .entry(who)
            .or_default()
            .insert(block, nonce.saturating_add(1));
        self.bytes.insert((block, position), bytes);
    }

    /// The submitted bytes of an extrinsic, if it came through the node.
    pub fn bytes(&self, block: BlockNumber, position: usize) -> Option<&Vec<u8>> {
        self.bytes.get(&(block, position))
    }
}

/// The call, as the simulator applies it.
pub(super) fn call(metadata: &subxt::Metadata, bytes: &[u8]) -> Result<Call, Refusal> {
    crate::client::decode_call(metadata, bytes).map_err(|e| Refusal::Undecodable(e.to_string()))
}
