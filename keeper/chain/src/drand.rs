//! Commit-reveal v4: drand quicknet timelock encryption of a weights payload and a local beacon for
//! the simulator. The round a commit is encrypted to follows from the subnet's epoch schedule:
//! [`crate::epochs::commit_reveal_target`].
//!
//! The scheme is the one opentensor's `bittensor-drand` uses and the chain decrypts with:
//! Boneh-Franklin IBE over BLS12-381 (`timelock`, the Ideal Labs implementation), identity
//! `sha256(round as u64 big-endian)`, hashed to G1 with quicknet's DST
//! `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`, the beacon's public key in G2, an AES-256-GCM
//! body, and the ciphertext in arkworks' compressed serialization, laid out as the chain's `tle`
//! (ideal-lab5/timelock rev 5416406c, pinned by subtensor and by `bittensor-drand`) lays it out:
//! the IBE header's `v` and `w` are `Vec<u8>`, so each carries a u64 length before its 32 bytes.
//! The crates.io `timelock` 0.3 encrypts with the same scheme but declares them `[u8; 32]`, without
//! the lengths; [`ChainCiphertext`] converts between the two, and the cross-check with
//! `bittensor-drand` (`tests/reference.rs`) pins the layout.
//!
//! A drand round's signature is `sk x H(identity(round))` in G1: exactly IBE's extracted key for
//! that identity. So a [`LocalBeacon`] (a secret scalar with its G2 public key) is a faithful
//! stand-in for quicknet: the same code encrypts to either public key, and a ciphertext decrypts
//! with the matching beacon's signature of its round, and with nothing else. The tests check both
//! (a published quicknet round, and the local beacon).

use ark_ec::PrimeGroup;
use ark_ff::PrimeField;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use codec::{Decode, Encode};
use sha2::{Digest, Sha256};
use timelock::block_ciphers::AESGCMBlockCipherProvider;
use timelock::engines::drand::TinyBLS381;
use timelock::engines::EngineBLS;
use timelock::ibe::fullident::{Ciphertext as IbeCiphertext, Identity};
use timelock::tlock::{tld, tle, TLECiphertext};

use crate::types::BeaconInfo;
use crate::{Error, Result};

/// drand quicknet's public key (compressed G2).
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// drand quicknet's chain hash.
pub const QUICKNET_CHAIN_HASH: &str =
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";
/// Quicknet round 1000's published signature (compressed G1, hex), the test vector that pins the
/// quicknet parameters: a commit to round 1000 must open with it.
pub const QUICKNET_ROUND_1000_SIGNATURE: &str = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";
/// Unix time of quicknet's genesis.
pub const QUICKNET_GENESIS: u64 = 1_692_803_367;
/// Seconds between quicknet rounds.
pub const QUICKNET_PERIOD: u64 = 3;
/// Seconds per subtensor block.
pub const BLOCK_TIME_SECS: u64 = 12;

/// The weights payload of a v4 commit, SCALE-encoded before encryption (field order matters).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WeightsTlockPayload {
    /// The committing hotkey's 32 public key bytes.
    pub hotkey: Vec<u8>,
    /// Target uids.
    pub uids: Vec<u16>,
    /// u16 weights.
    pub values: Vec<u16>,
    /// The subnet's weights version key.
    pub version_key: u64,
}

/// The quicknet beacon.
pub fn quicknet() -> BeaconInfo {
    BeaconInfo {
        public_key: hex::decode(QUICKNET_PUBLIC_KEY).unwrap_or_default(),
        genesis_time: QUICKNET_GENESIS,
        period: QUICKNET_PERIOD,
    }
}

/// The beacon round current at a unix time (the latest round whose time has come).
pub fn round_at(unix: u64, genesis: u64, period: u64) -> u64 {
    if period == 0 {
        return 0;
    }
    unix.saturating_sub(genesis) / period
}

fn identity(round: u64) -> Identity {
    let digest = Sha256::digest(round.to_be_bytes());
    Identity::new(b"", &digest[..])
}

fn public_key(bytes: &[u8]) -> Result<<TinyBLS381 as EngineBLS>::PublicKeyGroup> {
    <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(bytes).map_err(|e| {
        Error::Timelock {
            reason: format!("beacon public key ({} bytes): {e}", bytes.len()),
        }
    })
}

/// A timelock ciphertext in the chain's layout (`tle` rev 5416406c's `TLECiphertext` with its
/// `IBECiphertext { u, v: Vec<u8>, w: Vec<u8> }` header): compressed `u` (G2, 96 bytes), then `v`,
/// `w`, the AES-GCM body and the cipher suite name, each as a u64 little-endian length and its
/// bytes. These are the bytes a v4 commit carries. Parsed by hand: arkworks would allocate
/// whatever length the (untrusted) bytes declare before reading them.
struct ChainCiphertext {
    u: <TinyBLS381 as EngineBLS>::PublicKeyGroup,
    v: [u8; 32],
    w: [u8; 32],
    body: Vec<u8>,
    cipher_suite: Vec<u8>,
}

/// Compressed G2.
const G2_BYTES: usize = 96;

fn bad_ciphertext(len: usize, why: impl std::fmt::Display) -> Error {
    Error::Timelock {
        reason: format!("ciphertext ({len} bytes): {why}"),
    }
}

impl ChainCiphertext {
    fn from_timelock(ct: TLECiphertext<TinyBLS381>) -> Self {
        ChainCiphertext {
            u: ct.header.u,
            v: ct.header.v,
            w: ct.header.w,
            body: ct.body,
            cipher_suite: ct.cipher_suite,
        }
    }

    fn into_timelock(self) -> TLECiphertext<TinyBLS381> {
        TLECiphertext {
            header: IbeCiphertext {
                u: self.u,
                v: self.v,
                w: self.w,
            },
            body: self.body,
            cipher_suite: self.cipher_suite,
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(G2_BYTES + 4 * 8 + 64 + self.body.len() + 8);
        self.u
            .serialize_compressed(&mut out)
            .map_err(|e| Error::Timelock {
                reason: format!("ciphertext serialization: {e}"),
            })?;
        for field in [&self.v[..], &self.w[..], &self.body, &self.cipher_suite] {
            let len = u64::try_from(field.len()).map_err(|e| Error::Timelock {
                reason: format!("ciphertext serialization: {e}"),
            })?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(field);
        }
        Ok(out)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let total = bytes.len();
        let (u, mut rest) = bytes
            .split_at_checked(G2_BYTES)
            .ok_or_else(|| bad_ciphertext(total, "shorter than its header"))?;
        let u = <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(u)
            .map_err(|e| bad_ciphertext(total, format!("header u: {e}")))?;
        let mut field = |name: &str| -> Result<Vec<u8>> {
            let (len, tail) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| bad_ciphertext(total, format!("no length of {name}")))?;
            let len = usize::try_from(u64::from_le_bytes(*len))
                .ok()
                .filter(|l| *l <= tail.len())
                .ok_or_else(|| bad_ciphertext(total, format!("{name} is longer than the rest")))?;
            let (value, tail) = tail.split_at(len);
            rest = tail;
            Ok(value.to_vec())
        };
        let hash = |name: &str, v: Vec<u8>| {
            <[u8; 32]>::try_from(v).map_err(|v| {
                bad_ciphertext(
                    total,
                    format!("header {name}: {} bytes, expected 32", v.len()),
                )
            })
        };
        let v = hash("v", field("v")?)?;
        let w = hash("w", field("w")?)?;
        let body = field("body")?;
        let cipher_suite = field("cipher suite")?;
        if !rest.is_empty() {
            return Err(bad_ciphertext(
                total,
                format!("{} bytes left over", rest.len()),
            ));
        }
        Ok(ChainCiphertext {
            u,
            v,
            w,
            body,
            cipher_suite,
        })
    }
}

/// Timelock-encrypts `plaintext` to `round` of the beacon with `public_key` (compressed G2).
pub fn encrypt(public_key_bytes: &[u8], round: u64, plaintext: &[u8]) -> Result<Vec<u8>> {
    use rand::RngCore;
    let pk = public_key(public_key_bytes)?;
    let mut rng = rand::rngs::OsRng;
    let mut ephemeral = [0u8; 32];
    rng.fill_bytes(&mut ephemeral);
    let ct = tle::<TinyBLS381, AESGCMBlockCipherProvider, _>(
        pk,
        ephemeral,
        plaintext,
        identity(round),
        rng,
    )
    .map_err(|e| Error::Timelock {
        reason: format!("encryption to round {round}: {e:?}"),
    })?;
    ChainCiphertext::from_timelock(ct).to_bytes()
}

/// SCALE-encodes and encrypts a weights payload to `round`.
pub fn encrypt_payload(
    public_key_bytes: &[u8],
    round: u64,
    payload: &WeightsTlockPayload,
) -> Result<Vec<u8>> {
    encrypt(public_key_bytes, round, &payload.encode())
}

/// Decrypts a ciphertext with the beacon's signature (compressed G1, 48 bytes) of its round.
pub fn decrypt(ciphertext: &[u8], signature: &[u8]) -> Result<Vec<u8>> {
    let ct = ChainCiphertext::from_bytes(ciphertext)?.into_timelock();
    let sig = <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(signature)
        .map_err(|e| Error::Timelock {
            reason: format!("beacon signature ({} bytes): {e}", signature.len()),
        })?;
    tld::<TinyBLS381, AESGCMBlockCipherProvider>(ct, sig).map_err(|e| Error::Timelock {
        reason: format!("decryption: {e:?}"),
    })
}

/// Decrypts and SCALE-decodes a weights payload.
pub fn decrypt_payload(ciphertext: &[u8], signature: &[u8]) -> Result<WeightsTlockPayload> {
    let bytes = decrypt(ciphertext, signature)?;
    WeightsTlockPayload::decode(&mut bytes.as_slice())
        .map_err(|e| Error::decode("weights timelock payload", e))
}

/// A locally generated beacon key standing in for quicknet (see the module docs), with quicknet's
/// genesis and period so rounds line up with the real schedule.
#[derive(Clone)]
pub struct LocalBeacon {
    secret: <TinyBLS381 as EngineBLS>::Scalar,
}

impl std::fmt::Debug for LocalBeacon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalBeacon { .. }")
    }
}

impl LocalBeacon {
    /// A beacon key derived from a seed (reproducible runs).
    pub fn from_seed(seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"tao20-sim-beacon");
        h.update(seed.to_le_bytes());
        let secret = <TinyBLS381 as EngineBLS>::Scalar::from_le_bytes_mod_order(&h.finalize()[..]);
        LocalBeacon { secret }
    }

    /// Its compressed G2 public key.
    pub fn public_key(&self) -> Result<Vec<u8>> {
        let pk = <TinyBLS381 as EngineBLS>::PublicKeyGroup::generator() * self.secret;
        let mut out = Vec::new();
        pk.serialize_compressed(&mut out)
            .map_err(|e| Error::Timelock {
                reason: format!("public key serialization: {e}"),
            })?;
        Ok(out)
    }

    /// Its beacon description (quicknet's genesis and period).
    pub fn info(&self) -> Result<BeaconInfo> {
        Ok(BeaconInfo {
            public_key: self.public_key()?,
            genesis_time: QUICKNET_GENESIS,
            period: QUICKNET_PERIOD,
        })
    }

    /// Its signature of a round (compressed G1), the round's decryption key.
    pub fn signature(&self, round: u64) -> Result<Vec<u8>> {
        let sig = identity(round).extract::<TinyBLS381>(self.secret).0;
        let mut out = Vec::new();
        sig.serialize_compressed(&mut out)
            .map_err(|e| Error::Timelock {
                reason: format!("signature serialization: {e}"),
            })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> WeightsTlockPayload {
        WeightsTlockPayload {
            hotkey: vec![0xAB; 32],
            uids: vec![0, 3, 7],
            values: vec![65535, 12, 0],
            version_key: 843_000,
        }
    }

    #[test]
    fn a_commit_to_a_published_quicknet_round_decrypts_with_its_signature() {
        let sig = hex::decode(QUICKNET_ROUND_1000_SIGNATURE).unwrap();
        let ct = encrypt_payload(&quicknet().public_key, 1000, &payload()).unwrap();
        assert_eq!(decrypt_payload(&ct, &sig).unwrap(), payload());
        // The same signature does not open a commit to another round.
        let other = encrypt_payload(&quicknet().public_key, 1001, &payload()).unwrap();
        assert!(decrypt(&other, &sig).is_err());
    }

    #[test]
    fn the_local_beacon_opens_its_own_rounds_only() {
        let beacon = LocalBeacon::from_seed(7);
        let pk = beacon.public_key().unwrap();
        assert_eq!(pk.len(), 96);
        let ct = encrypt_payload(&pk, 42, &payload()).unwrap();
        let sig = beacon.signature(42).unwrap();
        assert_eq!(sig.len(), 48);
        assert_eq!(decrypt_payload(&ct, &sig).unwrap(), payload());
        assert!(decrypt(&ct, &beacon.signature(43).unwrap()).is_err());
        assert!(decrypt(&ct, &LocalBeacon::from_seed(8).signature(42).unwrap()).is_err());
        // Quicknet's round-1000 signature is a valid G1 point but not this beacon's key.
        let ct1000 = encrypt_payload(&pk, 1000, &payload()).unwrap();
        assert!(decrypt(
            &ct1000,
            &hex::decode(QUICKNET_ROUND_1000_SIGNATURE).unwrap()
        )
        .is_err());
    }

    #[test]
    fn ciphertexts_carry_the_chain_layout() {
        let ct = encrypt_payload(&quicknet().public_key, 1000, &payload()).unwrap();
        // u (96) | len 32 | v | len 32 | w | len | body | len 8 | "AES_GCM_"
        assert_eq!(&ct[96..104], &32u64.to_le_bytes());
        assert_eq!(&ct[136..144], &32u64.to_le_bytes());
        let body = u64::from_le_bytes(ct[176..184].try_into().unwrap());
        let suite = 184 + usize::try_from(body).unwrap();
        assert_eq!(&ct[suite..suite + 8], &8u64.to_le_bytes());
        assert_eq!(&ct[suite + 8..], b"AES_GCM_");
        // The crates.io layout (no lengths in the header) is refused, and so are trailing bytes.
        let mut short = ct[..96].to_vec();
        short.extend_from_slice(&ct[104..136]);
        short.extend_from_slice(&ct[144..]);
        let sig = hex::decode(QUICKNET_ROUND_1000_SIGNATURE).unwrap();
        assert!(decrypt(&short, &sig).is_err());
        let mut long = ct.clone();
        long.push(0);
        assert!(decrypt(&long, &sig).is_err());
        // A declared length beyond the bytes is an error, not an allocation.
        let mut huge = ct.clone();
        huge[176..184].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decrypt(&huge, &sig)
            .unwrap_err()
            .to_string()
            .contains("longer"));
        assert!(decrypt(&ct[..50], &sig).is_err());
    }

    #[test]
    fn the_payload_encodes_as_the_sdk_struct() {
        let bytes = payload().encode();
        // Vec<u8> of 32: compact(32) = 0x80, then the bytes; uids: compact(3) = 0x0c, ...
        assert_eq!(bytes[0], 0x80);
        assert_eq!(&bytes[1..33], &[0xAB; 32]);
        assert_eq!(&bytes[33..40], &[0x0c, 0, 0, 3, 0, 7, 0]);
        assert_eq!(&bytes[bytes.len() - 8..], &843_000u64.to_le_bytes());
    }
}
