// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ErrorsLib} from "./ErrorsLib.sol";

/// @title SignatureLib
/// @notice Strict secp256k1 recovery of 65-byte `r || s || v` signatures.
library SignatureLib {
    /// @dev secp256k1n / 2: a larger `s` is the malleable twin of a valid signature.
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice Recovers the signer of `digest`; `index` only labels errors.
    /// @dev Rejects any length but 65, high `s`, `v` outside {27, 28} and a zero recovered address.
    function recover(bytes32 digest, bytes calldata sig, uint256 index) internal pure returns (address signer) {
        if (sig.length != 65) revert ErrorsLib.InvalidSignatureLength(index, sig.length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        if (uint256(s) > HALF_ORDER) revert ErrorsLib.InvalidSignatureS(index);
        if (v != 27 && v != 28) revert ErrorsLib.InvalidSignatureV(index, v);
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert ErrorsLib.ZeroSigner(index);
    }
}
