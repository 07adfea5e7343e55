// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {ALPHA_PRECOMPILE} from "../../contracts/interfaces/IAlpha.sol";
import {AlphaMock} from "./AlphaMock.sol";
import {Blake2b} from "./Blake2b.sol";

/// @notice A storage-backed stand-in for the StakingV2 precompile, placed at 0x…0805 with
///         `vm.etch` / `anvil_setCode`. Stake is keyed by (hotkey, coldkey, netuid); the caller's
///         coldkey is its mirror account blake2_256("evm:" ++ h160), as in the runtime. Like the
///         runtime it clamps a move to the stake available, refuses amounts worth less than
///         `DefaultMinStake`, and refuses `transferStake` on a subnet whose owner disabled transfers.
/// @dev The runtime's behaviour this mock reproduces, with the subtensor source of each:
///      - a refused `moveStake` / `transferStake` is a failed dispatch, which the precompile turns
///        into an EVM error exit (`PrecompileFailure::Error` in `precompiles/src/extensions.rs`
///        `try_dispatch_runtime_call`): the caller loses all the gas it forwarded, not just the
///        call's cost. The precompile selectors here end a refusal with `invalid()` for the same
///        effect; the test controls (`transferStakeFrom`) revert with typed errors instead.
///      - the amount is clamped to the stake available (`transition_stake_internal` in
///        `pallets/subtensor/src/staking/move_stake.rs`), and the moved alpha's TAO value at the
///        subnet price must reach `DefaultMinStake` (`transfer_stake_within_subnet` in
///        `staking/stake_utils.rs`, error `AmountTooLow`);
///      - `transferStake` honours the subnet's `TransferToggle` (`validate_stake_transition`,
///        error `TransferDisallowed`); `moveStake` does not check it.
///      - optionally (`setPoolFloor`) a delivery reads one rao short, as the share pool may
///        (`primitives/share-pool/src/lib.rs` truncates shares and values).
///      The three precompile calls TAO20 makes are served by `fallback` straight from calldata (the
///      runtime's precompile has no ABI decoder to pay for either), so gas snapshots measure the
///      contract and the storage it touches rather than Solidity's dispatch in a test double.
///      Same-subnet moves only (all TAO20 needs); the minimum is checked on the alpha's TAO value at
///      the subnet price (1 TAO per alpha unless set). Code placed at an address runs no constructor,
///      so every default is a constant or a zero-means-default.
contract StakingMock {
    /// @notice The runtime's `DefaultMinStake`, in rao.
    uint256 public constant DEFAULT_MIN_STAKE = 2_000_000;

    uint256 internal constant OK = 0;
    uint256 internal constant NO_STAKE = 1;
    uint256 internal constant TOO_LOW = 2;
    uint256 internal constant DISABLED = 3;

    /// @dev One slot per subnet, so a transfer reads its price and toggle with one SLOAD.
    struct Subnet {
        uint128 priceRao; // rao per alpha; 0 means 1e9
        bool transfersDisabled;
    }

    error AmountTooLow(uint256 amount, uint256 valueRao, uint256 minimum);
    error TransfersDisabled(uint256 netuid);
    error CrossSubnetUnsupported(uint256 originNetuid, uint256 destinationNetuid);
    error NoStake(bytes32 hotkey, bytes32 coldkey, uint256 netuid);

    event StakeSet(bytes32 indexed hotkey, bytes32 indexed coldkey, uint256 indexed netuid, uint256 amount);

    /// @dev Stake lives at slot keccak256(hotkey, coldkey, netuid) (`_slot`), one hash per access.
    mapping(uint256 netuid => Subnet) public subnets;
    mapping(address account => bytes32) internal mirrors;
    /// @dev Two bits per subnet, 128 a word (word `netuid / 128`, bits `2 * (netuid % 128)`):
    ///      transfers disabled, and a price of its own (else 1 TAO per alpha, no price read). One
    ///      warm slot for a whole basket, so the toggle costs what it costs the runtime, not a cold
    ///      read per asset.
    mapping(uint256 word => uint256) internal flags;
    /// @dev Test knob: deliveries (`transferStakeFrom`) credit one rao less, like the share pool.
    bool internal poolFloor;

    // ------------------------------------------------------------------ the precompile

    error UnknownSelector(bytes4 selector);

    /// @notice `getStake`, `moveStake` and `transferStake` of the StakingV2 precompile.
    /// @dev The precompile path mirrors `_move`/`_transfer` (which serve the test controls) rule for
    ///      rule; `MocksTest` checks both against the same cases.
    fallback() external {
        bytes4 sel = msg.sig;
        if (sel == IStaking.getStake.selector) {
            // getStake(hotkey, coldkey, netuid): the three words are the slot's preimage.
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                calldatacopy(ptr, 4, 0x60)
                mstore(0, sload(keccak256(ptr, 0x60)))
                return(0, 32)
            }
        }
        uint256 netuid;
        assembly ("memory-safe") {
            netuid := calldataload(68)
        }
        if (netuid != uint256(bytes32(msg.data[100:132]))) {
            revert CrossSubnetUnsupported(netuid, uint256(bytes32(msg.data[100:132])));
        }
        if (sel != IStaking.moveStake.selector && sel != IStaking.transferStake.selector) revert UnknownSelector(sel);
        bytes32 coldkey = _mirror(msg.sender);
        bool isTransfer = sel == IStaking.transferStake.selector;
        // The same rules as `_move`, in assembly: a test double's dispatch should not weigh in the
        // gas snapshots. A refusal is an error exit (`invalid()`): the caller loses the gas it forwarded.
        assembly ("memory-safe") {
            let a := calldataload(4)
            let b := calldataload(36)
            let amount := calldataload(132)
            // moveStake(originHotkey a, destinationHotkey b, ...); transferStake(destinationColdkey a, hotkey b, ...)
            let fromHotkey := a
            let toColdkey := coldkey
            mstore(0, div(netuid, 128))
            mstore(0x20, flags.slot)
            let subnetFlags := shr(mul(2, mod(netuid, 128)), sload(keccak256(0, 0x40)))
            if isTransfer {
                fromHotkey := b
                toColdkey := a
                if and(subnetFlags, 1) { invalid() }
            }
            let ptr := mload(0x40)
            mstore(ptr, fromHotkey)
            mstore(add(ptr, 0x20), coldkey)
            mstore(add(ptr, 0x40), netuid)
            let fromSlot := keccak256(ptr, 0x60)
            let available := sload(fromSlot)
            if iszero(available) { invalid() }
            if gt(amount, available) { amount := available } // the runtime clamps to what is there
            let price := 1000000000
            if and(subnetFlags, 2) {
                mstore(0, netuid)
                mstore(0x20, subnets.slot)
                price := and(sload(keccak256(0, 0x40)), 0xffffffffffffffffffffffffffffffff)
            }
            if lt(div(mul(amount, price), 1000000000), DEFAULT_MIN_STAKE) { invalid() }
            mstore(ptr, b) // the destination hotkey: moveStake's b, transferStake's own hotkey b
            mstore(add(ptr, 0x20), toColdkey)
            let toSlot := keccak256(ptr, 0x60)
            sstore(fromSlot, sub(available, amount))
            sstore(toSlot, add(sload(toSlot), amount))
            stop()
        }
    }

    // ------------------------------------------------------------------ test controls

    /// @notice Sets the stake of (hotkey, coldkey, netuid) outright (emissions, genesis balances).
    function setStake(bytes32 hotkey, bytes32 coldkey, uint256 netuid, uint256 amount) external {
        bytes32 slot = _slot(hotkey, coldkey, netuid);
        assembly ("memory-safe") {
            sstore(slot, amount)
        }
        emit StakeSet(hotkey, coldkey, netuid, amount);
    }

    /// @notice Sets a subnet's alpha price (rao per alpha, 0 for 1 TAO) and its transfer toggle; the
    ///         Alpha mock answers the same price in wei.
    function setSubnet(uint256 netuid, uint128 priceRao, bool transfersDisabled) external {
        subnets[netuid] = Subnet(priceRao, transfersDisabled);
        uint256 shift = 2 * (netuid % 128);
        uint256 word = flags[netuid / 128] & ~(3 << shift);
        if (transfersDisabled) word |= 1 << shift;
        if (priceRao != 0) word |= 2 << shift;
        flags[netuid / 128] = word;
        if (ALPHA_PRECOMPILE.code.length != 0) AlphaMock(ALPHA_PRECOMPILE).setPriceRao(netuid, priceRao);
    }

    /// @notice Makes every later delivery (`transferStakeFrom`) credit one rao less than it moved.
    function setPoolFloor(bool on) external {
        poolFloor = on;
    }

    /// @notice A substrate `transfer_stake` signed by `fromColdkey` (a miner's delivery).
    function transferStakeFrom(bytes32 fromColdkey, bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount)
        external
    {
        uint256 why = _transfer(fromColdkey, toColdkey, hotkey, netuid, amount, poolFloor ? 1 : 0);
        if (why == DISABLED) revert TransfersDisabled(netuid);
        if (why == NO_STAKE) revert NoStake(hotkey, fromColdkey, netuid);
        if (why == TOO_LOW) {
            uint256 held = _stakeAt(_slot(hotkey, fromColdkey, netuid));
            uint256 moved = amount > held ? held : amount;
            revert AmountTooLow(moved, moved * alphaPrice(netuid) / 1e9, DEFAULT_MIN_STAKE);
        }
    }

    /// @notice `getStake` for tests (the precompile's own selector is served by `fallback`).
    function stakeOf(bytes32 hotkey, bytes32 coldkey, uint256 netuid) external view returns (uint256) {
        return _stakeAt(_slot(hotkey, coldkey, netuid));
    }

    /// @notice The subnet's alpha price in rao of TAO per alpha (the Alpha mock answers it x 1e9).
    function alphaPrice(uint256 netuid) public view returns (uint256) {
        uint256 p = subnets[netuid].priceRao;
        return p == 0 ? 1e9 : p;
    }

    /// @notice The mirror account of `account`, as the runtime derives it.
    function mirrorOf(address account) external view returns (bytes32) {
        return Blake2b.hash256(abi.encodePacked("evm:", account));
    }

    // ------------------------------------------------------------------ internals

    function _transfer(
        bytes32 fromColdkey,
        bytes32 toColdkey,
        bytes32 hotkey,
        uint256 netuid,
        uint256 amount,
        uint256 shortfall
    ) internal returns (uint256) {
        if (flags[netuid / 128] & (1 << (2 * (netuid % 128))) != 0) return DISABLED;
        return _move(hotkey, fromColdkey, hotkey, toColdkey, netuid, amount, shortfall);
    }

    /// @dev Moves stake as the runtime does, or answers why it refuses (nothing changes then).
    ///      `shortfall` rao less than moved is credited (the share pool's floor; 0 normally).
    function _move(
        bytes32 fromHotkey,
        bytes32 fromColdkey,
        bytes32 toHotkey,
        bytes32 toColdkey,
        uint256 netuid,
        uint256 amount,
        uint256 shortfall
    ) internal returns (uint256) {
        bytes32 fromSlot = _slot(fromHotkey, fromColdkey, netuid);
        uint256 available;
        assembly ("memory-safe") {
            available := sload(fromSlot)
        }
        if (available == 0) return NO_STAKE;
        if (amount > available) amount = available; // the runtime clamps to what is there
        if (amount * alphaPrice(netuid) / 1e9 < DEFAULT_MIN_STAKE) return TOO_LOW;
        bytes32 toSlot = _slot(toHotkey, toColdkey, netuid);
        uint256 credited = amount > shortfall ? amount - shortfall : amount;
        // Stakes are alpha amounts (u64 in the runtime): the sum cannot overflow 256 bits.
        assembly ("memory-safe") {
            sstore(fromSlot, sub(available, amount))
            sstore(toSlot, add(sload(toSlot), credited))
        }
        return OK;
    }

    /// @dev Storage slot of the stake of (hotkey, coldkey, netuid): keccak256 of the three words, far
    ///      from every declared slot and mapping entry.
    function _slot(bytes32 hotkey, bytes32 coldkey, uint256 netuid) internal pure returns (bytes32 slot) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hotkey)
            mstore(add(ptr, 0x20), coldkey)
            mstore(add(ptr, 0x40), netuid)
            slot := keccak256(ptr, 0x60)
        }
    }

    function _stakeAt(bytes32 slot) internal view returns (uint256 amount) {
        assembly ("memory-safe") {
            amount := sload(slot)
        }
    }

    function _mirror(address account) internal returns (bytes32 m) {
        m = mirrors[account];
        if (m == bytes32(0)) {
            m = Blake2b.hash256(abi.encodePacked("evm:", account));
            mirrors[account] = m;
        }
    }
}
