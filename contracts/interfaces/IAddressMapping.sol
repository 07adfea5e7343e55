// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Subtensor's AddressMapping precompile
///      (`opentensor/subtensor` `precompiles/src/solidity/addressMapping.sol`).
address constant ADDRESS_MAPPING_PRECOMPILE = 0x000000000000000000000000000000000000080C;

/// @title IAddressMapping
/// @notice Maps an H160 to its substrate mirror account, `blake2_256("evm:" ++ h160)`.
interface IAddressMapping {
    /// @notice The AccountId32 that holds balance and stake on behalf of `target_address`.
    function addressMapping(address target_address) external view returns (bytes32);
}
