//! Report signatures: secp256k1 over the EIP-712 digest, through alloy's local signer (k256,
//! RFC 6979 deterministic nonces). A signature is 65 bytes `r || s || v` with `v` in {27, 28} and a
//! low `s`; `mint` takes them sorted by recovered signer address, which [`sort_signatures`] does.

use alloy_primitives::{Address, Signature, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

use crate::eip712::Eip712Message;
use crate::{Error, Result};

/// secp256k1's group order `n`; a valid low-s signature has `s <= n / 2`.
const SECP256K1_N: alloy_primitives::U256 = alloy_primitives::uint!(
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256
);

/// A 65-byte `r || s || v` signature.
pub type RawSignature = [u8; 65];

/// A keeper's report-signing key.
#[derive(Clone)]
pub struct ReportSigner {
    key: PrivateKeySigner,
}

impl std::fmt::Debug for ReportSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("ReportSigner")
            .field("address", &self.address())
            .finish()
    }
}

impl ReportSigner {
    /// A signer from a 32-byte secret key; errors on zero or a value not below the group order.
    pub fn from_bytes(secret: &B256) -> Result<Self> {
        PrivateKeySigner::from_bytes(secret)
            .map(|key| Self { key })
            .map_err(|e| Error::Signature(format!("invalid secret key: {e}")))
    }

    /// The signer's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Signs a digest: 65 bytes, low-s, `v` in {27, 28}.
    pub fn sign_digest(&self, digest: &B256) -> Result<RawSignature> {
        let sig = self
            .key
            .sign_hash_sync(digest)
            .map_err(|e| Error::Signature(e.to_string()))?
            .normalized_s();
        Ok(sig.as_bytes())
    }

    /// Signs a message under the TAO20 domain of `chain_id` and `contract`, after checking the
    /// ordering rules the contract enforces.
    pub fn sign(
        &self,
        message: &Eip712Message,
        chain_id: u64,
        contract: Address,
    ) -> Result<RawSignature> {
        message.validate()?;
        self.sign_digest(&message.digest(chain_id, contract))
    }
}

/// The address that signed `digest`, under the contract's rules: exactly 65 bytes, `v` in
/// {27, 28}, `s <= n / 2`, and a non-zero recovered address.
pub fn recover(digest: &B256, signature: &[u8]) -> Result<Address> {
    let bytes: &RawSignature = signature
        .try_into()
        .map_err(|_| Error::Signature(format!("{} bytes, expected 65", signature.len())))?;
    let v = bytes[64];
    if v != 27 && v != 28 {
        return Err(Error::Signature(format!("v = {v}, expected 27 or 28")));
    }
    let sig = Signature::from_raw_array(bytes).map_err(|e| Error::Signature(e.to_string()))?;
    if sig.s() > SECP256K1_N >> 1 {
        return Err(Error::Signature("high s".into()));
    }
    let addr = sig
        .recover_address_from_prehash(digest)
        .map_err(|e| Error::Signature(format!("cannot recover: {e}")))?;
    if addr == Address::ZERO {
        return Err(Error::Signature("recovers to the zero address".into()));
    }
    Ok(addr)
}

/// Recovers every signature's signer and returns them sorted by address, ascending, as `mint`
/// requires. Two signatures by one signer, or one that does not recover, are errors.
pub fn sort_signatures(
    digest: &B256,
    signatures: &[RawSignature],
) -> Result<Vec<(Address, RawSignature)>> {
    let mut out = signatures
        .iter()
        .map(|s| recover(digest, s).map(|a| (a, *s)))
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|(a, _)| *a);
    for w in out.windows(2) {
        if let [(a, _), (b, _)] = w {
            if a == b {
                return Err(Error::Signature(format!("two signatures by {a}")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    fn key(name: &str) -> ReportSigner {
        ReportSigner::from_bytes(&keccak256(format!("tao20.test.{name}"))).unwrap()
    }

    #[test]
    fn signs_recovers_and_sorts() {
        let digest = keccak256("report");
        let signers = [key("signer0"), key("signer1"), key("signer2")];
        let sigs: Vec<_> = signers
            .iter()
            .map(|s| s.sign_digest(&digest).unwrap())
            .collect();
        for (s, sig) in signers.iter().zip(&sigs) {
            assert_eq!(recover(&digest, sig).unwrap(), s.address());
            assert!(sig[64] == 27 || sig[64] == 28);
        }
        // RFC 6979: signing twice gives the same bytes.
        assert_eq!(signers[0].sign_digest(&digest).unwrap(), sigs[0]);
        let sorted = sort_signatures(&digest, &sigs).unwrap();
        assert!(sorted.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(sort_signatures(&digest, &[sigs[0], sigs[0]]).is_err());
    }

    #[test]
    fn rejects_malleable_and_malformed_signatures() {
        let digest = keccak256("report");
        let sig = key("signer0").sign_digest(&digest).unwrap();
        assert!(recover(&digest, &sig[..64]).is_err());
        let mut v0 = sig;
        v0[64] -= 27;
        assert!(recover(&digest, &v0).is_err());
        // The high-s twin (n - s, flipped v) recovers the same key but must be refused.
        let parsed = Signature::from_raw_array(&sig).unwrap();
        let s_high = SECP256K1_N - parsed.s();
        let mut high = sig;
        high[32..64].copy_from_slice(&s_high.to_be_bytes::<32>());
        high[64] = if sig[64] == 27 { 28 } else { 27 };
        assert!(matches!(recover(&digest, &high), Err(Error::Signature(m)) if m == "high s"));
        assert!(ReportSigner::from_bytes(&B256::ZERO).is_err());
    }
}
