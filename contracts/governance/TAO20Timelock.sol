// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title TAO20Timelock
/// @notice The owner of the TAO20 contract: OpenZeppelin's `TimelockController`, with its delay and
///         its lapse window counted in blocks (PROTOCOL.md: blocks, never seconds, for every
///         deadline). A scheduled change becomes executable `delay` blocks after it was scheduled
///         (at least `getMinDelay()`, 14 400 = 48 hours in production) and lapses `LAPSE_BLOCKS`
///         blocks after that: a lapsed operation reads as never scheduled, so applying it needs a
///         fresh schedule and a fresh notice. Proposers queue and cancel; executors (the zero
///         address: anyone) apply.
/// @dev The base contract's timestamps still mark an operation as scheduled (non-zero), done (1)
///      or cancelled (0); readiness and lapse come from the block recorded here at scheduling.
///      `getTimestamp` answers that ready block. Proposers, executors and the delay change only
///      through scheduled operations on the timelock itself, as in the base contract.
contract TAO20Timelock is TimelockController {
    /// @notice Blocks after an operation becomes ready during which it may be executed.
    uint256 public immutable LAPSE_BLOCKS;

    mapping(bytes32 id => uint256 readyBlock) private _readyBlocks;

    /// @notice A lapse window of zero blocks would make every operation unexecutable.
    error TimelockZeroLapse();

    /// @param minDelayBlocks the least delay of any operation, in blocks.
    /// @param lapseBlocks how long a ready operation stays executable, in blocks (> 0).
    /// @param proposers accounts that schedule and cancel (a multisig).
    /// @param executors accounts that execute; `[address(0)]` lets anyone execute.
    /// @param admin an optional initial admin (zero for none: the timelock administers itself).
    constructor(
        uint256 minDelayBlocks,
        uint256 lapseBlocks,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelayBlocks, proposers, executors, admin) {
        if (lapseBlocks == 0) revert TimelockZeroLapse();
        LAPSE_BLOCKS = lapseBlocks;
    }

    /// @notice Schedules an operation executable from `delay` blocks from now (at least the minimum).
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.schedule(target, value, data, predecessor, salt, delay);
        _readyBlocks[hashOperation(target, value, data, predecessor, salt)] = block.number + delay;
    }

    /// @notice Schedules a batch executable from `delay` blocks from now (at least the minimum).
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
        _readyBlocks[hashOperationBatch(targets, values, payloads, predecessor, salt)] = block.number + delay;
    }

    /// @notice The block from which operation `id` is executable (0 unset or lapsed, 1 done).
    function getTimestamp(bytes32 id) public view override returns (uint256) {
        OperationState state = getOperationState(id);
        if (state == OperationState.Unset) return 0;
        if (state == OperationState.Done) return 1;
        return _readyBlocks[id];
    }

    /// @notice Unset, Waiting (before its ready block), Ready (for `LAPSE_BLOCKS` blocks), Done. A
    ///         lapsed operation is Unset again: it can be scheduled anew, never executed as it is.
    function getOperationState(bytes32 id) public view override returns (OperationState) {
        uint256 marker = super.getTimestamp(id);
        if (marker == 0) return OperationState.Unset;
        if (marker == 1) return OperationState.Done;
        uint256 ready = _readyBlocks[id];
        if (block.number < ready) return OperationState.Waiting;
        if (block.number > ready + LAPSE_BLOCKS) return OperationState.Unset;
        return OperationState.Ready;
    }
}
