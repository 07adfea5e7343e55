// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IInheritedEvents
/// @notice Events TAO20 emits through the OpenZeppelin contracts it inherits (`Ownable2Step`,
///         `EIP712`), declared once more here only so the deployment's ABI (`deployments/*.json`,
///         assembled from ITAO20, EventsLib, ErrorsLib and these) decodes every log the fund
///         emits. Nothing implements this interface.
interface IInheritedEvents {
    /// @notice `Ownable`: ownership moved.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice `Ownable2Step`: a transfer of ownership awaits acceptance.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// @notice `IERC5267`: the EIP-712 domain changed (never emitted: the domain is fixed).
    event EIP712DomainChanged();
}
