// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {IStaking, STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";
import {IAddressMapping, ADDRESS_MAPPING_PRECOMPILE} from "../contracts/interfaces/IAddressMapping.sol";
import {StakingMock} from "./mocks/StakingMock.sol";

/// @notice The precompile mocks behave like the runtime where TAO20 depends on it.
contract MocksTest is BaseTest {
    bytes32 internal hk = keccak256("hk");
    bytes32 internal ck = keccak256("ck");

    /// @dev blake2b-256("evm:" ++ 0x7a02…a020), computed independently with Python's hashlib.
    function test_AddressMapping_IsBlake2bOfEvmPrefixAndAddress() public view {
        bytes32 got =
            IAddressMapping(ADDRESS_MAPPING_PRECOMPILE).addressMapping(0x7A0207a0207A0207a0207A0207A0207a0207A020);
        assertEq(got, 0xb1c09ad014fa4ea1b66f0f4b5be4dd6325f421e1fe5319d9220ef232f5a692bd);
        assertEq(vault, IAddressMapping(ADDRESS_MAPPING_PRECOMPILE).addressMapping(address(t)), "the vault");
    }

    function test_Staking_TransferClampsToWhatIsAvailable() public {
        staking.setStake(hk, ck, 1, 5e9);
        staking.transferStakeFrom(ck, vault, hk, 1, 9e9);
        assertEq(staking.stakeOf(hk, vault, 1), 5e9);
        assertEq(staking.stakeOf(hk, ck, 1), 0);
    }

    function test_Staking_RefusesAmountsBelowTheMinimumValue() public {
        staking.setSubnet(1, 1e7, false); // 0.01 TAO per alpha
        staking.setStake(hk, ck, 1, 1e9);
        // 1e8 rao of alpha is worth 1e6 rao < 2e6
        vm.expectRevert(abi.encodeWithSelector(StakingMock.AmountTooLow.selector, 1e8, 1e6, 2e6));
        staking.transferStakeFrom(ck, vault, hk, 1, 1e8);
        staking.transferStakeFrom(ck, vault, hk, 1, 2e8); // worth exactly the minimum
        assertEq(staking.stakeOf(hk, vault, 1), 2e8);
    }

    function test_Staking_HonoursTheTransferToggle() public {
        staking.setStake(hk, ck, 3, 1e9);
        staking.setSubnet(3, 0, true);
        vm.expectRevert(abi.encodeWithSelector(StakingMock.TransfersDisabled.selector, 3));
        staking.transferStakeFrom(ck, vault, hk, 3, 1e9);
        staking.setSubnet(3, 0, false);
        staking.transferStakeFrom(ck, vault, hk, 3, 1e9);
        assertEq(staking.stakeOf(hk, vault, 3), 1e9);
    }

    function test_Staking_PrecompileSelectorsActOnTheCallersMirror() public {
        bytes32 mirror = staking.mirrorOf(address(this));
        staking.setStake(hk, mirror, 2, 4e9);
        assertEq(IStaking(STAKING_PRECOMPILE).getStake(hk, mirror, 2), 4e9);
        IStaking(STAKING_PRECOMPILE).moveStake(hk, keccak256("other"), 2, 2, 1e9);
        IStaking(STAKING_PRECOMPILE).transferStake(ck, hk, 2, 2, 1e9);
        assertEq(staking.stakeOf(hk, mirror, 2), 2e9);
        assertEq(staking.stakeOf(keccak256("other"), mirror, 2), 1e9);
        assertEq(staking.stakeOf(hk, ck, 2), 1e9);
        vm.expectRevert(abi.encodeWithSelector(StakingMock.CrossSubnetUnsupported.selector, 2, 3));
        IStaking(STAKING_PRECOMPILE).moveStake(hk, hk, 2, 3, 1e9);
    }

    /// @dev precompiles/src/alpha.rs: the price scaled by 1e9 to whole rao, then into_evm_balance (x 1e9).
    function test_Alpha_AnswersWeiPerAlpha() public {
        assertEq(IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(7), 1e18, "1 TAO per alpha by default");
        staking.setSubnet(7, 123_456, false); // rao per alpha
        assertEq(IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(7), 123_456e9, "wei per alpha");
        staking.setSubnet(7, 0, false);
        assertEq(IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(7), 1e18);
    }

    /// @dev precompiles/src/extensions.rs: a failed dispatch is PrecompileFailure::Error, an error exit
    ///      that keeps none of the gas forwarded to it.
    function test_Staking_ARefusedDispatchConsumesTheForwardedGas() public {
        bytes32 mirror = staking.mirrorOf(address(this));
        staking.setStake(hk, mirror, 2, 1e3); // worth 1e3 rao: below the minimum
        uint256 before = gasleft();
        (bool ok,) =
            STAKING_PRECOMPILE.call{gas: 1_000_000}(abi.encodeCall(IStaking.transferStake, (ck, hk, 2, 2, 1e3)));
        uint256 used = before - gasleft();
        assertFalse(ok);
        assertGe(used, 1_000_000, "every unit forwarded is gone");
        assertEq(staking.stakeOf(hk, mirror, 2), 1e3, "nothing moved");
    }

    function test_Staking_PoolFloorCreditsOneRaoShort() public {
        staking.setStake(hk, ck, 1, 5e9);
        staking.setPoolFloor(true);
        staking.transferStakeFrom(ck, vault, hk, 1, 5e9);
        assertEq(staking.stakeOf(hk, vault, 1), 5e9 - 1);
        assertEq(staking.stakeOf(hk, ck, 1), 0);
    }
}
