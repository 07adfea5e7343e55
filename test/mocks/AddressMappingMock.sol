// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAddressMapping} from "../../contracts/interfaces/IAddressMapping.sol";
import {Blake2b} from "./Blake2b.sol";

/// @notice The AddressMapping precompile as the runtime computes it: blake2_256("evm:" ++ h160).
contract AddressMappingMock is IAddressMapping {
    function addressMapping(address target_address) external view returns (bytes32) {
        return Blake2b.hash256(abi.encodePacked("evm:", target_address));
    }
}
