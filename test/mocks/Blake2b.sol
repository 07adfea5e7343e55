// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice blake2b-256 of a message of at most 128 bytes through the EIP-152 BLAKE2 F precompile
///         (0x09): enough to derive a substrate mirror account, `blake2_256("evm:" ++ h160)`.
library Blake2b {
    /// @dev The blake2b IV with h[0] ^= 0x01010020 (no key, 32-byte digest), each word little-endian.
    bytes internal constant H0 =
        hex"28c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b";

    function hash256(bytes memory message) internal view returns (bytes32 digest) {
        require(message.length <= 128, "Blake2b: one block only");
        bytes memory block_ = new bytes(128);
        for (uint256 i; i < message.length; ++i) {
            block_[i] = message[i];
        }
        // t = message length as a little-endian u128 (only the low byte is non-zero here).
        bytes memory input = abi.encodePacked(uint32(12), H0, block_, uint8(message.length), bytes15(0), uint8(1));
        (bool ok, bytes memory out) = address(0x09).staticcall(input);
        require(ok && out.length == 64, "Blake2b: F failed");
        assembly ("memory-safe") {
            digest := mload(add(out, 0x20))
        }
    }
}
