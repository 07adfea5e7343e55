//! SS58 addresses: base58 of `prefix ‖ public key ‖ checksum`, the checksum being the first two
//! bytes of blake2b-512 over `"SS58PRE" ‖ prefix ‖ public key`. Bittensor uses the generic
//! Substrate format 42 (`5…` addresses); other formats decode too, so an operator can paste an
//! address from any Substrate tool, but everything this crate prints is format 42.

use blake2::{Blake2b512, Digest};

/// The address format Bittensor uses (the generic Substrate one).
pub const BITTENSOR_FORMAT: u16 = 42;

/// The largest address format the SS58 scheme can carry (14 bits).
pub const MAX_FORMAT: u16 = 0x3fff;

const CHECKSUM_PREFIX: &[u8] = b"SS58PRE";
const CHECKSUM_LEN: usize = 2;
const KEY_LEN: usize = 32;

/// Why a string is not an SS58 address of a 32-byte public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ss58Error {
    /// A character outside the base58 alphabet.
    #[error("not base58: {0}")]
    Base58(String),
    /// The decoded length fits neither a one- nor a two-byte prefix with a 32-byte key.
    #[error("decodes to {0} bytes, not an address of a 32-byte public key (35 or 36 bytes)")]
    Length(usize),
    /// The first byte is not a valid prefix (SS58 prefixes are below 128).
    #[error("invalid address-format prefix byte 0x{0:02x}")]
    Prefix(u8),
    /// The checksum does not match: a typo, or a truncated copy.
    #[error("checksum mismatch (a mistyped or truncated address)")]
    Checksum,
    /// A format above [`MAX_FORMAT`] cannot be encoded.
    #[error("address format {0} is above the largest SS58 format {MAX_FORMAT}")]
    Format(u16),
}

/// Encodes a public key as a format-42 address, as btcli prints it.
pub fn encode(public_key: &[u8; 32]) -> String {
    // Format 42 is below MAX_FORMAT, so this cannot fail.
    encode_with_format(public_key, BITTENSOR_FORMAT).unwrap_or_default()
}

/// Encodes a public key as an address of the given format.
pub fn encode_with_format(public_key: &[u8; 32], format: u16) -> Result<String, Ss58Error> {
    let prefix = prefix_bytes(format)?;
    let mut data = Vec::with_capacity(prefix.len() + KEY_LEN + CHECKSUM_LEN);
    data.extend_from_slice(&prefix);
    data.extend_from_slice(public_key);
    let sum = checksum(&data);
    data.extend_from_slice(&sum);
    Ok(bs58::encode(data).into_string())
}

/// Decodes an address of any format into its format and public key.
pub fn decode_with_format(address: &str) -> Result<(u16, [u8; 32]), Ss58Error> {
    let data = bs58::decode(address.trim())
        .into_vec()
        .map_err(|e| Ss58Error::Base58(e.to_string()))?;
    let first = *data.first().ok_or(Ss58Error::Length(0))?;
    let (prefix_len, format) = match first {
        0..=63 => (1, u16::from(first)),
        64..=127 => {
            let second = *data.get(1).ok_or(Ss58Error::Length(data.len()))?;
            // The inverse of `prefix_bytes`: six low bits of the format sit in the first byte
            // (after the 0b01 marker), two more at the top of the second, the rest below them.
            let lower = (first << 2) | (second >> 6);
            let upper = second & 0b0011_1111;
            (2, u16::from(lower) | (u16::from(upper) << 8))
        }
        _ => return Err(Ss58Error::Prefix(first)),
    };
    if data.len() != prefix_len + KEY_LEN + CHECKSUM_LEN {
        return Err(Ss58Error::Length(data.len()));
    }
    let (body, sum) = data.split_at(prefix_len + KEY_LEN);
    if checksum(body) != sum {
        return Err(Ss58Error::Checksum);
    }
    let mut key = [0u8; KEY_LEN];
    key.copy_from_slice(body.get(prefix_len..).unwrap_or_default());
    Ok((format, key))
}

/// Decodes an address of any format into its public key.
pub fn decode(address: &str) -> Result<[u8; 32], Ss58Error> {
    decode_with_format(address).map(|(_, key)| key)
}

fn prefix_bytes(format: u16) -> Result<Vec<u8>, Ss58Error> {
    match format {
        0..=63 => Ok(vec![format.to_le_bytes()[0]]),
        64..=MAX_FORMAT => {
            let [low, high] = format.to_le_bytes();
            let first = ((low & 0b1111_1100) >> 2) | 0b0100_0000;
            let second = high | ((low & 0b0000_0011) << 6);
            Ok(vec![first, second])
        }
        _ => Err(Ss58Error::Format(format)),
    }
}

fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = Blake2b512::new();
    hasher.update(CHECKSUM_PREFIX);
    hasher.update(body);
    let hash = hasher.finalize();
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(hash.get(..CHECKSUM_LEN).unwrap_or(&[0, 0]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Alice's well-known dev key and addresses (substrate's subkey documentation).
    const ALICE: [u8; 32] = [
        0xd4, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f,
        0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85, 0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d,
        0xa2, 0x7d,
    ];

    #[test]
    fn alice_in_the_generic_polkadot_and_kusama_formats() {
        assert_eq!(
            encode(&ALICE),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(
            encode_with_format(&ALICE, 0).unwrap(),
            "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"
        );
        assert_eq!(
            encode_with_format(&ALICE, 2).unwrap(),
            "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F"
        );
        assert_eq!(
            decode_with_format("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap(),
            (42, ALICE)
        );
        assert_eq!(
            decode_with_format("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5").unwrap(),
            (0, ALICE)
        );
    }

    #[test]
    fn two_byte_formats_match_scalecodec_and_round_trip_at_their_edges() {
        // Expected strings from PyPI scalecodec's `ss58_encode`, an independent implementation.
        for (format, expected) in [
            (64, "cEaNSpz4PxFcZ7nT1VEKrKewH67rfx6MfcM6yKojyyPz7qaqp"),
            (1284, "VdvKmYJfD4VXA9fzz1SbmCo2eYHSzUFbaDCZSuaNKJAe8YNg6"),
            (
                MAX_FORMAT,
                "yNa8JpqfFB3q8A29rCwSgxvdU94ufJw2yKKxDgznS5m1PoFvn",
            ),
        ] {
            assert_eq!(encode_with_format(&ALICE, format).unwrap(), expected);
        }
        for format in [64, 255, 256, 1284, 4242, MAX_FORMAT] {
            let address = encode_with_format(&ALICE, format).unwrap();
            assert_eq!(
                decode_with_format(&address).unwrap(),
                (format, ALICE),
                "{format}"
            );
        }
        assert_eq!(
            encode_with_format(&ALICE, MAX_FORMAT + 1),
            Err(Ss58Error::Format(MAX_FORMAT + 1))
        );
    }

    #[test]
    fn typos_truncation_and_garbage_are_refused() {
        let good = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        // One character changed: the checksum catches it.
        let typo = good.replacen('G', "H", 1);
        assert_eq!(decode(&typo), Err(Ss58Error::Checksum));
        assert!(matches!(
            decode(good.get(..good.len() - 2).unwrap()),
            Err(Ss58Error::Length(_))
        ));
        assert!(matches!(decode("0OIl"), Err(Ss58Error::Base58(_))));
        assert_eq!(decode(""), Err(Ss58Error::Length(0)));
        // A leading byte of 128 or more is no SS58 prefix.
        let mut bad = vec![0x80u8];
        bad.extend_from_slice(&ALICE);
        bad.extend_from_slice(&[0, 0]);
        assert_eq!(
            decode(&bs58::encode(bad).into_string()),
            Err(Ss58Error::Prefix(0x80))
        );
    }
}
