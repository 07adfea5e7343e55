// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    CreationFile,
    CreationReport,
    RefundReport,
    Sweep,
    Asset,
    Position
} from "../../contracts/interfaces/ITAO20.sol";
import {HashLib} from "../../contracts/libraries/HashLib.sol";

/// @notice Exposes the contract's own EIP-712 hashing library to tests (HashLib takes calldata).
contract Hasher {
    function creationFile(CreationFile calldata f) external pure returns (bytes32) {
        return HashLib.hash(f);
    }

    function creationReport(CreationReport calldata r) external pure returns (bytes32) {
        return HashLib.hash(r);
    }

    function refundReport(RefundReport calldata r) external pure returns (bytes32) {
        return HashLib.hash(r);
    }

    function sweep(Sweep calldata s) external pure returns (bytes32) {
        return HashLib.hash(s);
    }

    function asset(Asset calldata a) external pure returns (bytes32) {
        return HashLib.hash(a);
    }

    function position(Position calldata p) external pure returns (bytes32) {
        return HashLib.hash(p);
    }

    function typeHashes() external pure returns (bytes32[6] memory) {
        return [
            HashLib.ASSET_TYPEHASH,
            HashLib.CREATION_FILE_TYPEHASH,
            HashLib.POSITION_TYPEHASH,
            HashLib.CREATION_REPORT_TYPEHASH,
            HashLib.REFUND_REPORT_TYPEHASH,
            HashLib.SWEEP_TYPEHASH
        ];
    }
}
