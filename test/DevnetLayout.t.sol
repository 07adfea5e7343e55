// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IStaking, STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";
import {StakingMock} from "./mocks/StakingMock.sol";
import {AlphaMock} from "./mocks/AlphaMock.sol";
import {StakeTotals} from "./mocks/StakeTotals.sol";

/// @notice Pins the storage layout the devnet's shared stake ledger writes with `anvil_setStorageAt`
///         (keeper/devnet/src/ledger.rs): stake, subnet price and toggle, and the Alpha mock's price.
///         A change to the mocks' storage fails here before it desynchronises the two chains.
contract DevnetLayoutTest is Test {
    StakingMock internal staking = StakingMock(STAKING_PRECOMPILE);

    function setUp() public {
        vm.etch(STAKING_PRECOMPILE, address(new StakingMock()).code);
        vm.etch(ALPHA_PRECOMPILE, address(new AlphaMock()).code);
    }

    function _stakeSlot(bytes32 hotkey, bytes32 coldkey, uint256 netuid) internal pure returns (bytes32) {
        return keccak256(abi.encode(hotkey, coldkey, netuid));
    }

    function test_DevnetLayout_StakeIsTheHashOfItsKey() public {
        staking.setStake(bytes32("hk"), bytes32("ck"), 7, 1234);
        assertEq(uint256(vm.load(STAKING_PRECOMPILE, _stakeSlot(bytes32("hk"), bytes32("ck"), 7))), 1234);
        vm.store(STAKING_PRECOMPILE, _stakeSlot(bytes32("hk"), bytes32("ck2"), 7), bytes32(uint256(99)));
        assertEq(IStaking(STAKING_PRECOMPILE).getStake(bytes32("hk"), bytes32("ck2"), 7), 99);
    }

    function test_DevnetLayout_PriceAndToggleSlots() public {
        uint256 netuid = 131;
        // What the ledger writes: the subnet struct, the flags word, and the Alpha mock's two slots.
        uint256 price = 25_000_000;
        vm.store(STAKING_PRECOMPILE, keccak256(abi.encode(netuid, uint256(0))), bytes32(price | (1 << 128)));
        vm.store(
            STAKING_PRECOMPILE,
            keccak256(abi.encode(netuid / 128, uint256(2))),
            bytes32(uint256(3) << (2 * (netuid % 128)))
        );
        vm.store(
            ALPHA_PRECOMPILE, keccak256(abi.encode(netuid / 256, uint256(0))), bytes32(uint256(1) << (netuid % 256))
        );
        vm.store(ALPHA_PRECOMPILE, keccak256(abi.encode(netuid, uint256(1))), bytes32(price));
        (uint128 p, bool disabled) = staking.subnets(netuid);
        assertEq(p, price);
        assertTrue(disabled);
        assertEq(staking.alphaPrice(netuid), price);
        assertEq(IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(uint16(netuid)), price * 1e9);
        // The same slots hold what the mock's own setter writes.
        staking.setSubnet(netuid + 1, 40_000_000, false);
        assertEq(uint256(vm.load(STAKING_PRECOMPILE, keccak256(abi.encode(netuid + 1, uint256(0))))), 40_000_000);
        uint256 flags = uint256(vm.load(STAKING_PRECOMPILE, keccak256(abi.encode((netuid + 1) / 128, uint256(2)))));
        assertEq((flags >> (2 * ((netuid + 1) % 128))) & 3, 2);
        assertEq(uint256(vm.load(ALPHA_PRECOMPILE, keccak256(abi.encode(netuid + 1, uint256(1))))), 40_000_000);
        // A disabled subnet refuses a delivery.
        staking.setStake(bytes32("hk"), bytes32("ck"), netuid, 1e9);
        vm.expectRevert(abi.encodeWithSelector(StakingMock.TransfersDisabled.selector, netuid));
        staking.transferStakeFrom(bytes32("ck"), bytes32("v"), bytes32("hk"), netuid, 1e9);
    }

    function test_DevnetLayout_TotalsSumTheListedColdkeys() public {
        StakeTotals totals = new StakeTotals();
        staking.setStake(bytes32("hk"), bytes32("a"), 3, 5);
        staking.setStake(bytes32("hk"), bytes32("b"), 3, 7);
        staking.setStake(bytes32("hk"), bytes32("c"), 4, 100);
        bytes32[] memory cks = new bytes32[](3);
        (cks[0], cks[1], cks[2]) = (bytes32("a"), bytes32("b"), bytes32("c"));
        assertEq(totals.total(STAKING_PRECOMPILE, bytes32("hk"), 3, cks), 12);
    }
}
