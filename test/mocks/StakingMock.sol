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

    mapping(bytes32 key => uint256) internal stakes;
    mapping(uint256 netuid => Subnet) public subnets;
    mapping(address account => bytes32) internal mirrors;
    /// @dev Bit `netuid % 256` of word `netuid / 256`: transfers disabled. One warm slot for a
    ///      whole basket, so the toggle costs what it costs the runtime, not a cold read per asset.
    mapping(uint256 word => uint256) internal disabledBits;
    /// @dev The lowest price ever set (0 means 1e9): amounts whose value at this price already
    ///      clears the minimum skip the per-subnet price read. Exact, since value >= that bound.
    uint256 internal lowestPrice;
    /// @dev Test knob: deliveries (`transferStakeFrom`) credit one rao less, like the share pool.
    bool internal poolFloor;

    // ------------------------------------------------------------------ the precompile

    error UnknownSelector(bytes4 selector);

    /// @notice `getStake`, `moveStake` and `transferStake` of the StakingV2 precompile.
    fallback() external {
        bytes4 sel = msg.sig;
        bytes32 a;
        bytes32 b;
        uint256 originNetuid;
        uint256 destinationNetuid;
        uint256 amount;
        assembly ("memory-safe") {
            a := calldataload(4)
            b := calldataload(36)
            originNetuid := calldataload(68)
            destinationNetuid := calldataload(100)
            amount := calldataload(132)
        }
        if (sel == IStaking.getStake.selector) {
            uint256 held = stakes[_key(a, b, originNetuid)];
            assembly ("memory-safe") {
                mstore(0, held)
                return(0, 32)
            }
        }
        if (originNetuid != destinationNetuid) revert CrossSubnetUnsupported(originNetuid, destinationNetuid);
        uint256 why;
        if (sel == IStaking.moveStake.selector) {
            bytes32 coldkey = _mirror(msg.sender);
            why = _move(a, coldkey, b, coldkey, originNetuid, amount, 0);
        } else if (sel == IStaking.transferStake.selector) {
            why = _transfer(_mirror(msg.sender), a, b, originNetuid, amount, 0);
        } else {
            revert UnknownSelector(sel);
        }
        // A failed dispatch is an error exit: it consumes every unit of gas forwarded to it.
        if (why != OK) {
            assembly ("memory-safe") {
                invalid()
            }
        }
    }

    // ------------------------------------------------------------------ test controls

    /// @notice Sets the stake of (hotkey, coldkey, netuid) outright (emissions, genesis balances).
    function setStake(bytes32 hotkey, bytes32 coldkey, uint256 netuid, uint256 amount) external {
        stakes[_key(hotkey, coldkey, netuid)] = amount;
        emit StakeSet(hotkey, coldkey, netuid, amount);
    }

    /// @notice Sets a subnet's alpha price (rao per alpha, 0 for 1 TAO) and its transfer toggle; the
    ///         Alpha mock answers the same price in wei.
    function setSubnet(uint256 netuid, uint128 priceRao, bool transfersDisabled) external {
        subnets[netuid] = Subnet(priceRao, transfersDisabled);
        uint256 bit = 1 << (netuid % 256);
        uint256 word = disabledBits[netuid / 256];
        disabledBits[netuid / 256] = transfersDisabled ? word | bit : word & ~bit;
        uint256 effective = priceRao == 0 ? 1e9 : priceRao;
        uint256 lowest = lowestPrice == 0 ? 1e9 : lowestPrice;
        if (effective < lowest) lowestPrice = effective;
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
            uint256 held = stakes[_key(hotkey, fromColdkey, netuid)];
            uint256 moved = amount > held ? held : amount;
            revert AmountTooLow(moved, moved * alphaPrice(netuid) / 1e9, DEFAULT_MIN_STAKE);
        }
    }

    /// @notice `getStake` for tests (the precompile's own selector is served by `fallback`).
    function stakeOf(bytes32 hotkey, bytes32 coldkey, uint256 netuid) external view returns (uint256) {
        return stakes[_key(hotkey, coldkey, netuid)];
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
        if (disabledBits[netuid / 256] & (1 << (netuid % 256)) != 0) return DISABLED;
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
        uint256 lowest = lowestPrice;
        if (lowest == 0) lowest = 1e9;
        if (amount * lowest / 1e9 < DEFAULT_MIN_STAKE) {
            if (amount * alphaPrice(netuid) / 1e9 < DEFAULT_MIN_STAKE) return TOO_LOW;
        }
        bytes32 toSlot = _slot(toHotkey, toColdkey, netuid);
        uint256 credited = amount > shortfall ? amount - shortfall : amount;
        // Stakes are alpha amounts (u64 in the runtime): the sum cannot overflow 256 bits.
        assembly ("memory-safe") {
            sstore(fromSlot, sub(available, amount))
            sstore(toSlot, add(sload(toSlot), credited))
        }
        return OK;
    }

    /// @dev Storage slot of `stakes[_key(hotkey, coldkey, netuid)]` (`stakes` is slot 0).
    function _slot(bytes32 hotkey, bytes32 coldkey, uint256 netuid) internal pure returns (bytes32 slot) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hotkey)
            mstore(add(ptr, 0x20), coldkey)
            mstore(add(ptr, 0x40), netuid)
            mstore(ptr, keccak256(ptr, 0x60))
            mstore(add(ptr, 0x20), stakes.slot)
            slot := keccak256(ptr, 0x40)
        }
    }

    function _mirror(address account) internal returns (bytes32 m) {
        m = mirrors[account];
        if (m == bytes32(0)) {
            m = Blake2b.hash256(abi.encodePacked("evm:", account));
            mirrors[account] = m;
        }
    }

    function _key(bytes32 hotkey, bytes32 coldkey, uint256 netuid) internal pure returns (bytes32 k) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hotkey)
            mstore(add(ptr, 0x20), coldkey)
            mstore(add(ptr, 0x40), netuid)
            k := keccak256(ptr, 0x60)
        }
    }
}
