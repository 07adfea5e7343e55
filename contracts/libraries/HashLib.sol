// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Asset, CreationFile, Position, CreationReport, RefundReport, Sweep} from "../interfaces/ITAO20.sol";

/// @title HashLib
/// @notice EIP-712 struct hashes of the TAO20 reports. Arrays of structs hash as keccak256 of the
///         concatenated struct hashes; referenced types are appended to `encodeType` sorted by name.
library HashLib {
    /// @notice keccak256 of the `Asset` encodeType.
    bytes32 internal constant ASSET_TYPEHASH = keccak256("Asset(uint16 netuid,uint64 qtyPerUnit,uint16 weightBps)");
    /// @notice keccak256 of the `CreationFile` encodeType.
    bytes32 internal constant CREATION_FILE_TYPEHASH = keccak256(
        "CreationFile(uint64 epochId,uint64 validFromBlock,uint64 validUntilBlock,uint256 sharesPerUnit,uint16 toleranceBps,uint32 minUnits,Asset[] assets,uint64 signerSetVersion)Asset(uint16 netuid,uint64 qtyPerUnit,uint16 weightBps)"
    );
    /// @notice keccak256 of the `Position` encodeType.
    bytes32 internal constant POSITION_TYPEHASH = keccak256("Position(uint16 netuid,bytes32 hotkey,uint64 amount)");
    /// @notice keccak256 of the `CreationReport` encodeType.
    bytes32 internal constant CREATION_REPORT_TYPEHASH = keccak256(
        "CreationReport(bytes32 requestId,uint64 epochId,bytes32 creationFileHash,address receiver,uint32 units,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint256 valueRao,uint256 navPerShare,uint64 signerSetVersion)Position(uint16 netuid,bytes32 hotkey,uint64 amount)"
    );
    /// @notice keccak256 of the `RefundReport` encodeType.
    bytes32 internal constant REFUND_REPORT_TYPEHASH = keccak256(
        "RefundReport(bytes32 requestId,bytes32 coldkey,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint64 signerSetVersion)Position(uint16 netuid,bytes32 hotkey,uint64 amount)"
    );
    /// @notice keccak256 of the `Sweep` encodeType.
    bytes32 internal constant SWEEP_TYPEHASH = keccak256(
        "Sweep(Position[] positions,uint64 nonce,uint64 signerSetVersion)Position(uint16 netuid,bytes32 hotkey,uint64 amount)"
    );

    /// @notice Struct hash of an `Asset`.
    function hash(Asset calldata a) internal pure returns (bytes32) {
        return keccak256(abi.encode(ASSET_TYPEHASH, a.netuid, a.qtyPerUnit, a.weightBps));
    }

    /// @notice Struct hash of a `Position`.
    function hash(Position calldata p) internal pure returns (bytes32) {
        return keccak256(abi.encode(POSITION_TYPEHASH, p.netuid, p.hotkey, p.amount));
    }

    /// @notice EIP-712 hash of an `Asset[]`.
    function hashAssets(Asset[] calldata assets) internal pure returns (bytes32 h) {
        bytes32[] memory hashes = new bytes32[](assets.length);
        for (uint256 i; i < assets.length; ++i) {
            hashes[i] = hash(assets[i]);
        }
        assembly ("memory-safe") {
            h := keccak256(add(hashes, 0x20), mul(mload(hashes), 0x20))
        }
    }

    /// @notice EIP-712 hash of a `Position[]`.
    function hashPositions(Position[] calldata positions) internal pure returns (bytes32 h) {
        bytes32[] memory hashes = new bytes32[](positions.length);
        for (uint256 i; i < positions.length; ++i) {
            hashes[i] = hash(positions[i]);
        }
        assembly ("memory-safe") {
            h := keccak256(add(hashes, 0x20), mul(mload(hashes), 0x20))
        }
    }

    /// @notice Struct hash of a `CreationFile`.
    function hash(CreationFile calldata f) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                CREATION_FILE_TYPEHASH,
                f.epochId,
                f.validFromBlock,
                f.validUntilBlock,
                f.sharesPerUnit,
                f.toleranceBps,
                f.minUnits,
                hashAssets(f.assets),
                f.signerSetVersion
            )
        );
    }

    /// @notice Struct hash of a `CreationReport`.
    function hash(CreationReport calldata r) internal pure returns (bytes32) {
        // Two halves: a single abi.encode of twelve words overflows the legacy code generator's stack.
        bytes memory head =
            abi.encode(CREATION_REPORT_TYPEHASH, r.requestId, r.epochId, r.creationFileHash, r.receiver, r.units);
        bytes memory tail = abi.encode(
            hashPositions(r.positions), r.deliveryBlock, r.deliveryIndex, r.valueRao, r.navPerShare, r.signerSetVersion
        );
        return keccak256(bytes.concat(head, tail));
    }

    /// @notice Struct hash of a `RefundReport`.
    function hash(RefundReport calldata r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REFUND_REPORT_TYPEHASH,
                r.requestId,
                r.coldkey,
                hashPositions(r.positions),
                r.deliveryBlock,
                r.deliveryIndex,
                r.signerSetVersion
            )
        );
    }

    /// @notice Struct hash of a `Sweep`.
    function hash(Sweep calldata s) internal pure returns (bytes32) {
        return keccak256(abi.encode(SWEEP_TYPEHASH, hashPositions(s.positions), s.nonce, s.signerSetVersion));
    }
}
