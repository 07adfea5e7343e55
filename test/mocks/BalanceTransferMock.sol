// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A stand-in for the BalanceTransfer precompile (0x…0800, `transfer(bytes32)` payable):
///         records the native TAO (wei) credited to each substrate account. Like the runtime
///         (`precompiles/src/balance_transfer.rs`) it refuses an amount that is not whole rao, and
///         `refuse` makes it refuse everything (an account the runtime would not credit).
contract BalanceTransferMock {
    mapping(bytes32 account => uint256) public credited;
    bool public refusing;

    function transfer(bytes32 account) external payable {
        require(!refusing && msg.value % 1e9 == 0, "BalanceTransferMock: refused");
        credited[account] += msg.value;
    }

    function refuse(bool on) external {
        refusing = on;
    }
}
