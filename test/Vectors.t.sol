// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Asserts the contracts against the shared vectors file that the Rust keeper asserts too.
/// @dev Every case whose `asserted_by` names "forge" must have a handler here, or the test fails.
///      `VECTORS_REGEN=true forge test --mc VectorsTest` rewrites the `expected` values this suite
///      computes (only those, in place) after a deliberate protocol change; review the diff.
contract VectorsTest is Test {
    string internal constant PATH = "test/vectors/protocol.json";

    string internal json;
    bool internal regen;
    uint256 internal asserted;

    function setUp() public {
        json = vm.readFile(PATH);
        regen = vm.envOr("VECTORS_REGEN", false);
    }

    function test_Vectors_AllForgeCasesHold() public {
        string[] memory names = vm.parseJsonKeys(json, ".cases");
        for (uint256 n; n < names.length; n++) {
            string memory i = names[n];
            if (!_assertedByForge(i)) continue;
            string memory kind = vm.parseJsonString(json, _case(i, ".kind"));
            bytes32 k = keccak256(bytes(kind));
            if (k == keccak256("eip712_domain")) _domain(i);
            else if (k == keccak256("fp18_mul")) _mulDiv(i, true);
            else if (k == keccak256("fp18_div")) _mulDiv(i, false);
            else revert(string.concat("no forge handler for vector kind ", kind));
            asserted++;
        }
        assertGt(asserted, 0, "no vector asserted");
        emit log_named_uint("vector cases asserted by forge", asserted);
    }

    function _domain(string memory i) internal {
        uint256 chainId = vm.parseJsonUint(json, _case(i, ".input.chainId"));
        address verifying = vm.parseJsonAddress(json, _case(i, ".input.verifyingContract"));
        bytes32 got = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TAO20"),
                keccak256("1"),
                chainId,
                verifying
            )
        );
        _checkBytes32(i, ".expected.domainSeparator", got);
    }

    function _mulDiv(string memory i, bool isMul) internal {
        uint256 a = vm.parseJsonUint(json, _case(i, ".input.a"));
        uint256 b = vm.parseJsonUint(json, _case(i, ".input.b"));
        bool ceil = keccak256(bytes(vm.parseJsonString(json, _case(i, ".input.rounding")))) == keccak256("ceil");
        Math.Rounding r = ceil ? Math.Rounding.Ceil : Math.Rounding.Floor;
        uint256 got = isMul ? Math.mulDiv(a, b, 1e18, r) : Math.mulDiv(a, 1e18, b, r);
        _checkUintString(i, ".expected.result", got);
    }

    // ---------------------------------------------------------------- helpers

    function _case(string memory i, string memory field) internal pure returns (string memory) {
        return string.concat(".cases.", i, field);
    }

    function _assertedByForge(string memory i) internal view returns (bool) {
        string[] memory by = vm.parseJsonStringArray(json, _case(i, ".asserted_by"));
        for (uint256 j; j < by.length; j++) {
            if (keccak256(bytes(by[j])) == keccak256("forge")) return true;
        }
        return false;
    }

    function _checkBytes32(string memory i, string memory field, bytes32 got) internal {
        if (regen) {
            vm.writeJson(string.concat('"', vm.toString(got), '"'), PATH, _case(i, field));
            return;
        }
        assertEq(got, vm.parseJsonBytes32(json, _case(i, field)), i);
    }

    function _checkUintString(string memory i, string memory field, uint256 got) internal {
        if (regen) {
            vm.writeJson(string.concat('"', vm.toString(got), '"'), PATH, _case(i, field));
            return;
        }
        assertEq(got, vm.parseJsonUint(json, _case(i, field)), i);
    }
}
