// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {TAO20} from "../contracts/TAO20.sol";
import {InitParams} from "../contracts/interfaces/ITAO20.sol";

/// @notice Deploys TAO20 from a JSON configuration and writes `deployments/<chainid>.json` (address,
///         deploy block, vault, configuration and ABI) for the keeper and integrators.
/// @dev `DEPLOY_CONFIG` names the configuration (default `script/config/<chainid>.json`); see
///      `script/config/example.json` for every field. Run with `--broadcast` and a deployer key.
contract Deploy is Script {
    function run() external returns (TAO20 tao20) {
        string memory path =
            vm.envOr("DEPLOY_CONFIG", string.concat("script/config/", vm.toString(block.chainid), ".json"));
        string memory cfg = vm.readFile(path);
        InitParams memory p = parseConfig(cfg);

        vm.startBroadcast();
        tao20 = new TAO20(p);
        vm.stopBroadcast();

        console2.log("TAO20 deployed at", address(tao20));
        console2.logBytes32(tao20.vault());
        _write(tao20, p, path);
    }

    /// @notice The deployment parameters in `cfg`; block numbers and amounts as JSON numbers or decimal strings.
    function parseConfig(string memory cfg) public view returns (InitParams memory p) {
        p.owner = vm.parseJsonAddress(cfg, ".owner");
        p.guardian = vm.parseJsonAddress(cfg, ".guardian");
        p.signers = vm.parseJsonAddressArray(cfg, ".signers");
        p.threshold = uint8(vm.parseJsonUint(cfg, ".threshold"));
        p.mintFeeBps = uint16(vm.parseJsonUint(cfg, ".fees.mintBps"));
        p.redeemFeeBps = uint16(vm.parseJsonUint(cfg, ".fees.redeemBps"));
        p.managementFeeBps = uint16(vm.parseJsonUint(cfg, ".fees.managementBps"));
        p.feeRecipient = vm.parseJsonAddress(cfg, ".fees.recipient");
        p.creationBond = uint96(vm.parseJsonUint(cfg, ".creationBondWei"));
        p.genesisBlock = uint64(vm.parseJsonUint(cfg, ".epoch.genesisBlock"));
        p.epochLength = uint64(vm.parseJsonUint(cfg, ".epoch.length"));
        p.deliveryWindow = uint32(vm.parseJsonUint(cfg, ".deliveryWindow"));
        p.expiryGrace = uint32(vm.parseJsonUint(cfg, ".expiryGrace"));
        p.minStakeRao = vm.parseJsonUint(cfg, ".minStakeRao");
        p.vaultColdkey = vm.parseJsonBytes32(cfg, ".vaultColdkey");
        p.defaultFundHotkey = vm.parseJsonBytes32(cfg, ".defaultFundHotkey");
        uint256 n;
        while (vm.keyExistsJson(cfg, string.concat(".fundHotkeys[", vm.toString(n), "]"))) {
            n++;
        }
        p.fundNetuids = new uint16[](n);
        p.fundHotkeys = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            string memory at = string.concat(".fundHotkeys[", vm.toString(i), "]");
            p.fundNetuids[i] = uint16(vm.parseJsonUint(cfg, string.concat(at, ".netuid")));
            p.fundHotkeys[i] = vm.parseJsonBytes32(cfg, string.concat(at, ".hotkey"));
        }
    }

    function _write(TAO20 tao20, InitParams memory p, string memory configPath) internal {
        string memory out =
            vm.envOr("DEPLOYMENT_OUT", string.concat("deployments/", vm.toString(block.chainid), ".json"));
        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "tao20", address(tao20));
        vm.serializeUint(o, "deployBlock", block.number);
        vm.serializeBytes32(o, "vaultColdkey", tao20.vault());
        vm.serializeString(o, "config", configPath);
        vm.serializeAddress(o, "owner", p.owner);
        vm.serializeAddress(o, "guardian", p.guardian);
        vm.serializeAddress(o, "signers", p.signers);
        vm.serializeUint(o, "threshold", p.threshold);
        vm.serializeUint(o, "genesisBlock", p.genesisBlock);
        vm.serializeUint(o, "epochLength", p.epochLength);
        vm.serializeUint(o, "deliveryWindow", p.deliveryWindow);
        vm.serializeUint(o, "expiryGrace", p.expiryGrace);
        vm.serializeAddress(o, "stakingPrecompile", 0x0000000000000000000000000000000000000805);
        vm.serializeAddress(o, "alphaPrecompile", 0x0000000000000000000000000000000000000808);
        string memory json =
            vm.serializeAddress(o, "addressMappingPrecompile", 0x000000000000000000000000000000000000080C);
        vm.writeJson(json, out);
        // forge artifacts start with {"abi":[...],"bytecode":...}: splice the ABI in as raw JSON.
        string memory artifact = vm.readFile("out/TAO20.sol/TAO20.json");
        string memory abiJson = vm.split(vm.split(artifact, ',"bytecode":')[0], '{"abi":')[1];
        vm.writeJson(abiJson, out, ".abi");
        console2.log("wrote", out);
    }
}
