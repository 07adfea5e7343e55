//! The `$NACL` keyfile encryption of btcli (bittensor-wallet 2 and later):
//! `b"$NACL" ‖ nonce (24 bytes) ‖ XSalsa20-Poly1305 secretbox (16-byte tag, then the ciphertext)`.
//! The box key is libsodium's `crypto_pwhash` with Argon2i v1.3 at its *sensitive* limits
//! (8 passes over 512 MiB, one lane) over the password and a salt that is the same for every
//! wallet (`NACL_SALT` below, fixed by bittensor). One decryption therefore takes 512 MiB of memory
//! and a few seconds; that cost is the protection against guessing, so it is not lowered here.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use zeroize::{Zeroize, Zeroizing};

/// The magic bytes a `$NACL` keyfile starts with.
pub const PREFIX: &[u8] = b"$NACL";

/// The XSalsa20 nonce length.
pub const NONCE_LEN: usize = 24;

/// The Poly1305 tag length: the smallest box (of an empty message).
pub const TAG_LEN: usize = 16;

/// The shortest well-formed `$NACL` file: prefix, nonce and the tag of an empty message.
pub const MIN_LEN: usize = PREFIX.len() + NONCE_LEN + TAG_LEN;

/// bittensor's fixed salt (`NACL_SALT` in bittensor-wallet).
pub const NACL_SALT: [u8; 16] = *b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";

/// libsodium `crypto_pwhash_MEMLIMIT_SENSITIVE` (536 870 912 bytes), in KiB as Argon2 counts it.
pub const MEMORY_KIB: u32 = 524_288;

/// libsodium `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE`: passes over the memory.
pub const PASSES: u32 = 8;

/// Why a `$NACL` box did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NaclError {
    /// The data does not start with `$NACL`.
    #[error("not $NACL data (no \"$NACL\" prefix)")]
    NotNacl,
    /// Shorter than prefix, nonce and tag: a cut-off copy.
    #[error("truncated $NACL data: {len} bytes, at least {MIN_LEN} needed")]
    Truncated {
        /// The length found.
        len: usize,
    },
    /// The tag does not verify: the password is wrong, or the ciphertext was altered or cut.
    #[error("the $NACL box does not open: wrong password, or a damaged file")]
    WrongPassword,
    /// Argon2 refused its parameters or could not run (not expected with the fixed ones).
    #[error("Argon2i key derivation failed: {0}")]
    Kdf(String),
}

/// Derives the secretbox key from a password (Argon2i v1.3, sensitive limits, bittensor's salt).
fn derive_key(password: &[u8]) -> Result<Zeroizing<[u8; 32]>, NaclError> {
    let params =
        Params::new(MEMORY_KIB, PASSES, 1, Some(32)).map_err(|e| NaclError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    // Allocated here rather than by argon2's `alloc` feature, which would pull in the
    // password-hash crate for nothing. A failed allocation is an error, not an abort: a small
    // container may well lack the 512 MiB.
    let mut blocks: Vec<Block> = Vec::new();
    blocks
        .try_reserve_exact(MEMORY_KIB as usize)
        .map_err(|_| NaclError::Kdf(format!("cannot allocate {} MiB", MEMORY_KIB / 1024)))?;
    blocks.resize(MEMORY_KIB as usize, Block::new());
    let result =
        argon.hash_password_into_with_memory(password, &NACL_SALT, key.as_mut(), &mut blocks);
    // The blocks are a function of the password: wipe them before the memory is returned.
    blocks.zeroize();
    result.map_err(|e| NaclError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Checks the framing of `$NACL` data without the (expensive) key derivation.
pub fn check_framing(data: &[u8]) -> Result<(), NaclError> {
    if !data.starts_with(PREFIX) {
        return Err(NaclError::NotNacl);
    }
    if data.len() < MIN_LEN {
        return Err(NaclError::Truncated { len: data.len() });
    }
    Ok(())
}

/// Opens `$NACL` data with a password; the plaintext is wiped when dropped.
pub fn decrypt(data: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, NaclError> {
    check_framing(data)?;
    let body = data.get(PREFIX.len()..).ok_or(NaclError::NotNacl)?;
    let (nonce, boxed) = body.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| NaclError::NotNacl)?;
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt(&Nonce::from(nonce), boxed)
        .map(Zeroizing::new)
        .map_err(|_| NaclError::WrongPassword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_checked_before_the_expensive_derivation() {
        assert_eq!(check_framing(b"{\"a\":1}"), Err(NaclError::NotNacl));
        let mut short = PREFIX.to_vec();
        short.extend_from_slice(&[0u8; NONCE_LEN + TAG_LEN - 1]);
        // `decrypt` returns at once (no 512 MiB derivation) for a cut-off file.
        assert_eq!(
            decrypt(&short, b"pw"),
            Err(NaclError::Truncated { len: MIN_LEN - 1 })
        );
        assert_eq!(
            decrypt(b"$NACL", b"pw"),
            Err(NaclError::Truncated { len: 5 })
        );
        short.push(0);
        assert_eq!(check_framing(&short), Ok(()));
    }

    #[test]
    fn the_salt_is_bittensors() {
        // The bytes of b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1", spelled out.
        assert_eq!(
            NACL_SALT,
            [
                0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39,
                0xe9, 0xb1
            ]
        );
        assert_eq!(u64::from(MEMORY_KIB) * 1024, 536_870_912);
    }
}
