// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {TAO20} from "../contracts/TAO20.sol";
import {TAO20Settlement} from "../contracts/TAO20Settlement.sol";
import {StakingLib} from "../contracts/libraries/StakingLib.sol";
import {TAO20Timelock} from "../contracts/governance/TAO20Timelock.sol";
import {InitParams} from "../contracts/interfaces/ITAO20.sol";

/// @notice Deploys the governance timelock and TAO20 (owned by it) from a JSON configuration and
///         writes `deployments/<chainid>.json` (addresses, deploy block, vault, configuration and the
///         ABIs) for the keeper and integrators.
/// @dev `DEPLOY_CONFIG` names the configuration (default `script/config/<chainid>.json`); see
///      `script/config/example.json` for every field. `owner` is the governance multisig: it becomes
///      the timelock's proposer and canceller, anyone may execute a ready change, and the timelock
///      owns TAO20. `timelock.delayBlocks` / `timelock.lapseBlocks` default to 14 400 (48 hours).
///      Run with `--broadcast` and a deployer key.
contract Deploy is Script {
    /// @notice The governance delay and lapse window PROTOCOL.md asks for: 48 hours of blocks each.
    uint256 public constant DEFAULT_DELAY_BLOCKS = 14_400;

    function run() external returns (TAO20 tao20) {
        string memory path =
            vm.envOr("DEPLOY_CONFIG", string.concat("script/config/", vm.toString(block.chainid), ".json"));
        string memory cfg = vm.readFile(path);
        InitParams memory p = parseConfig(cfg);
        address governance = p.owner;
        uint256 delay = _uintOr(cfg, ".timelock.delayBlocks", DEFAULT_DELAY_BLOCKS);
        uint256 lapse = _uintOr(cfg, ".timelock.lapseBlocks", DEFAULT_DELAY_BLOCKS);
        address[] memory proposers = new address[](1);
        proposers[0] = governance;
        address[] memory executors = new address[](1); // the zero address: anyone applies a ready change

        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        TAO20Timelock timelock = new TAO20Timelock(delay, lapse, proposers, executors, address(0));
        p.owner = address(timelock);
        // The settlement module first (the core's initcode cannot also carry it under EIP-3860),
        // built with the vault the core will have: its mirror account, deployed next.
        address core = vm.computeCreateAddress(deployer, vm.getNonce(deployer) + 1);
        bytes32 vault = p.vaultColdkey != bytes32(0) ? p.vaultColdkey : StakingLib.mirrorOf(core);
        TAO20Settlement settlement = new TAO20Settlement(p, vault);
        tao20 = new TAO20(p, address(settlement));
        vm.stopBroadcast();

        console2.log("TAO20Timelock deployed at", address(timelock));
        console2.log("TAO20Settlement deployed at", tao20.SETTLEMENT());
        console2.log("TAO20 deployed at", address(tao20));
        console2.logBytes32(tao20.vault());
        _write(tao20, timelock, governance, p, path);
    }

    function _uintOr(string memory cfg, string memory key, uint256 fallbackValue) internal view returns (uint256) {
        return vm.keyExistsJson(cfg, key) ? vm.parseJsonUint(cfg, key) : fallbackValue;
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
        p.minStakeRao = uint64(vm.parseJsonUint(cfg, ".minStakeRao"));
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

    function _write(
        TAO20 tao20,
        TAO20Timelock timelock,
        address governance,
        InitParams memory p,
        string memory configPath
    ) internal {
        string memory out = vm.envOr(
            "DEPLOYMENT_OUT", string.concat("deployments/", vm.toString(block.chainid), ".json")
        );
        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "tao20", address(tao20));
        vm.serializeUint(o, "deployBlock", block.number);
        vm.serializeBytes32(o, "vaultColdkey", tao20.vault());
        vm.serializeString(o, "config", configPath);
        vm.serializeAddress(o, "owner", p.owner);
        vm.serializeAddress(o, "timelock", address(timelock));
        vm.serializeUint(o, "timelockDelayBlocks", timelock.getMinDelay());
        vm.serializeUint(o, "timelockLapseBlocks", timelock.LAPSE_BLOCKS());
        vm.serializeAddress(o, "governance", governance);
        vm.serializeAddress(o, "settlement", tao20.SETTLEMENT());
        vm.serializeAddress(o, "guardian", p.guardian);
        vm.serializeAddress(o, "signers", p.signers);
        vm.serializeUint(o, "threshold", p.threshold);
        vm.serializeUint(o, "genesisBlock", p.genesisBlock);
        vm.serializeUint(o, "epochLength", p.epochLength);
        vm.serializeUint(o, "deliveryWindow", p.deliveryWindow);
        vm.serializeUint(o, "expiryGrace", p.expiryGrace);
        vm.serializeUint(o, "minStakeRao", p.minStakeRao);
        vm.serializeAddress(o, "stakingPrecompile", 0x0000000000000000000000000000000000000805);
        vm.serializeAddress(o, "alphaPrecompile", 0x0000000000000000000000000000000000000808);
        string memory json =
            vm.serializeAddress(o, "addressMappingPrecompile", 0x000000000000000000000000000000000000080C);
        vm.writeJson(json, out);
        // The contract's whole ABI: every entry point of its core and its settlement module (called
        // at the core's address), every event (including those of the inherited OpenZeppelin contracts)
        // and every error. The five lists are disjoint.
        string memory abiJson = string.concat(
            "[",
            _inner(_abiOf("out/ITAO20.sol/ITAO20.json")),
            ",",
            _inner(_abiOf("out/EventsLib.sol/EventsLib.json")),
            ",",
            _inner(_abiOf("out/ErrorsLib.sol/ErrorsLib.json")),
            ",",
            _inner(_abiOf("out/draft-IERC6093.sol/IERC20Errors.json")),
            ",",
            _inner(_abiOf("out/IInheritedEvents.sol/IInheritedEvents.json")),
            "]"
        );
        vm.writeJson(abiJson, out, ".abi");
        vm.writeJson(_abiOf("out/TAO20Timelock.sol/TAO20Timelock.json"), out, ".timelockAbi");
        console2.log("wrote", out);
    }

    /// @dev forge artifacts start with {"abi":[...],"bytecode":...}: the ABI as raw JSON. A source
    ///      built under two compiler profiles has `.default` / `.ir` artifacts; their ABIs are equal.
    function _abiOf(string memory artifactPath) internal view returns (string memory) {
        string memory stem = vm.replace(artifactPath, ".json", "");
        if (!vm.exists(artifactPath)) artifactPath = string.concat(stem, ".default.json");
        if (!vm.exists(artifactPath)) artifactPath = string.concat(stem, ".ir.json");
        string memory artifact = vm.readFile(artifactPath);
        return vm.split(vm.split(artifact, ',"bytecode":')[0], '{"abi":')[1];
    }

    /// @dev A JSON array's elements without the brackets.
    function _inner(string memory array) internal pure returns (string memory) {
        bytes memory b = bytes(array);
        bytes memory out = new bytes(b.length - 2);
        for (uint256 i; i < out.length; ++i) {
            out[i] = b[i + 1];
        }
        return string(out);
    }
}
