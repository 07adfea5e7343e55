// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PauseClock} from "../interfaces/ITAO20.sol";

/// @title ExpiryLib
/// @notice When a Pending request may be expired (its bond taken): only unpaused time counts.
library ExpiryLib {
    /// @notice The last block at which `expire` still fails for a request made at `requestBlock`
    ///         while `pausedAtRequest` blocks had been spent paused; `expire` succeeds after it,
    ///         and never while `clock` is paused.
    /// @dev `requestBlock + window + grace` plus every block paused since the request, and at least
    ///      `grace` after the last unpause that followed the request, so a miner whose delivery was
    ///      held up by a pause always has a whole grace to mint after it. Requests are refused while
    ///      paused, so every pause counted began after the request.
    function expireAfter(
        uint256 requestBlock,
        uint256 window,
        uint256 grace,
        uint256 pausedAtRequest,
        PauseClock memory clock
    ) internal pure returns (uint256 lastBlock) {
        lastBlock = requestBlock + window + grace + (clock.pausedTotal - pausedAtRequest);
        if (clock.lastUnpause > requestBlock && clock.lastUnpause + grace > lastBlock) {
            lastBlock = clock.lastUnpause + grace;
        }
    }
}
