// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {InitParams} from "../contracts/interfaces/ITAO20.sol";
import {ADDRESS_MAPPING_PRECOMPILE} from "../contracts/interfaces/IAddressMapping.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";

/// @notice Deployment checks: the vault against the runtime's AddressMapping, and parameters the
///         runtime's units constrain.
contract ConstructorTest is BaseTest {
    function _deploy(InitParams memory p) internal returns (bool ok, bytes memory err) {
        address module = _deploySettlement(p, vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1));
        bytes memory code = abi.encodePacked(vm.getCode("TAO20.sol:TAO20"), abi.encode(p, module));
        address at;
        assembly {
            at := create(0, add(code, 0x20), mload(code))
        }
        if (at != address(0)) return (true, "");
        assembly {
            err := mload(0x40)
            mstore(err, returndatasize())
            returndatacopy(add(err, 0x20), 0, returndatasize())
            mstore(0x40, add(add(err, 0x20), returndatasize()))
        }
    }

    /// @dev The module runs on the core's storage: one built for another vault or epoch schedule
    ///      would settle against the wrong accounts and blocks.
    function test_RevertWhen_Deploy_SettlementBuiltWithOtherImmutables() public {
        InitParams memory p = _params();
        address core = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        InitParams memory other = _params();
        other.expiryGrace = p.expiryGrace + 1;
        address module = _deploySettlement(other, core);
        bytes memory code = abi.encodePacked(vm.getCode("TAO20.sol:TAO20"), abi.encode(p, module));
        address at;
        assembly {
            at := create(0, add(code, 0x20), mload(code))
        }
        assertEq(at, address(0), "a core accepted a module with other immutables");
        assertEq(core.code.length, 0);
    }

    function test_Deploy_TakesTheVaultFromAddressMapping() public view {
        assertEq(vault, staking.mirrorOf(address(t)), "blake2_256(evm: ++ address)");
    }

    function test_RevertWhen_Deploy_ConfiguredVaultDisagreesWithAddressMapping() public {
        InitParams memory p = _params();
        p.vaultColdkey = keccak256("not the mirror account");
        (bool ok, bytes memory err) = _deploy(p);
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.InvalidParameter.selector, "vaultColdkey"));
    }

    function test_Deploy_ConfiguredVaultStandsWhereNoPrecompileAnswers() public {
        vm.etch(ADDRESS_MAPPING_PRECOMPILE, "");
        InitParams memory p = _params();
        p.vaultColdkey = keccak256("a plain EVM");
        (bool ok,) = _deploy(p);
        assertTrue(ok);
    }

    function test_RevertWhen_Deploy_NoVaultAtAll() public {
        vm.etch(ADDRESS_MAPPING_PRECOMPILE, "");
        (bool ok, bytes memory err) = _deploy(_params());
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.InvalidParameter.selector, "vaultColdkey"));
    }

    function test_RevertWhen_Deploy_DeliveryWindowBeyondSixteenBits() public {
        InitParams memory p = _params();
        p.deliveryWindow = 65_536; // a mint record keeps the delivery's offset in 16 bits
        (bool ok, bytes memory err) = _deploy(p);
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.InvalidParameter.selector, "deliveryWindow"));
    }

    function test_RevertWhen_Deploy_BondNotWholeRao() public {
        InitParams memory p = _params();
        p.creationBond = 1e18 + 1;
        (bool ok, bytes memory err) = _deploy(p);
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.NotWholeRao.selector, 1e18 + 1));
    }

    function test_RevertWhen_Deploy_ZeroMinStake() public {
        InitParams memory p = _params();
        p.minStakeRao = 0;
        (bool ok, bytes memory err) = _deploy(p);
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.InvalidParameter.selector, "minStakeRao"));
    }
}
