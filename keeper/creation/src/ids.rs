//! Identifiers both halves derive the same way: the request id and the delivery remark.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::SolValue;

/// `keccak256(abi.encode(chainid, address(this), miner, nonce))`, the id `requestCreation` assigns.
pub fn request_id(chain_id: u64, contract: Address, miner: Address, nonce: U256) -> B256 {
    keccak256((U256::from(chain_id), contract, miner, nonce).abi_encode())
}

/// `keccak256(abi.encodePacked("TAO20", chainid, vault, requestId))`: the 32 bytes a delivery's
/// `system.remark` carries. `chainid` is packed as a `uint256` (32 bytes), as `block.chainid` is.
pub fn delivery_remark(chain_id: u64, vault: B256, request_id: B256) -> B256 {
    let mut packed = Vec::with_capacity(5 + 32 * 3);
    packed.extend_from_slice(b"TAO20");
    packed.extend_from_slice(&U256::from(chain_id).to_be_bytes::<32>());
    packed.extend_from_slice(vault.as_slice());
    packed.extend_from_slice(request_id.as_slice());
    keccak256(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_bind_every_input() {
        let c = Address::repeat_byte(1);
        let m = Address::repeat_byte(2);
        let a = request_id(964, c, m, U256::ZERO);
        assert_ne!(a, request_id(945, c, m, U256::ZERO));
        assert_ne!(a, request_id(964, c, m, U256::from(1)));
        assert_ne!(a, request_id(964, m, c, U256::ZERO));
        let v = B256::repeat_byte(3);
        let r = delivery_remark(964, v, a);
        assert_ne!(r, delivery_remark(945, v, a));
        assert_ne!(r, delivery_remark(964, a, v));
        let packed = [
            b"TAO20".as_slice(),
            &U256::from(964u64).to_be_bytes::<32>(),
            v.as_slice(),
            a.as_slice(),
        ]
        .concat();
        assert_eq!(packed.len(), 101);
        assert_eq!(r, keccak256(packed));
    }
}
