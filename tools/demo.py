#!/usr/bin/env python3
"""Drives the TAO20 demo against the anvil that tools/demo.sh started ($RPC_URL).

Every write goes through the real contract (forge script or cast send); every number printed is read
back from the chain. Signatures are made at run time by script/DemoKeeper.s.sol with the test keys.
Exits non-zero the moment a step does not do what it should.
"""
import json
import os
import subprocess
import sys

RPC = os.environ["RPC_URL"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# anvil's well-known development keys (never used anywhere else)
DEPLOYER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
MINER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
MINER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FEE_RECIPIENT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
STAKING = "0x0000000000000000000000000000000000000805"
ALPHA = "0x0000000000000000000000000000000000000808"
MAPPING = "0x000000000000000000000000000000000000080C"
NETUIDS = [1, 2, 3]
PRICES = {1: 50_000_000, 2: 20_000_000, 3: 100_000_000}  # rao of TAO per alpha
BOND = 10**18
MINER_COLDKEY = "0x" + "c0" * 31 + "01"
REDEEM_COLDKEY = "0x" + "c0" * 31 + "02"


def run(*args, capture=True):
    res = subprocess.run(args, cwd=ROOT, text=True, capture_output=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        fail(f"command failed: {' '.join(args[:4])} ...")
    return res.stdout.strip()


def fail(msg):
    print(f"\nDEMO FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)
    print(f"  ok: {msg}")


def call(to, sig, *args):
    out = run("cast", "call", "--rpc-url", RPC, to, sig, *map(str, args))
    return out.split()[0] if out else out


def ucall(to, sig, *args):
    return int(call(to, sig, *args), 0)


def send(key, to, sig, *args, value=None):
    cmd = ["cast", "send", "--json", "--rpc-url", RPC, "--private-key", key, to, sig, *map(str, args)]
    if value is not None:
        cmd[3:3] = ["--value", str(value)]
    receipt = json.loads(run(*cmd))
    if int(receipt["status"], 0) != 1:
        fail(f"transaction {sig} reverted")
    return receipt


def keeper(sig, *args):
    run("forge", "script", "script/DemoKeeper.s.sol:DemoKeeper", "--sig", sig, *map(str, args),
        "--rpc-url", RPC, "--broadcast", "--private-key", DEPLOYER, "--slow", "-q")


def mine(blocks):
    run("cast", "rpc", "--rpc-url", RPC, "anvil_mine", hex(blocks))


def block():
    return int(run("cast", "block-number", "--rpc-url", RPC))


def code_of(artifact, name):
    with open(os.path.join(ROOT, "out", artifact, f"{name}.json")) as f:
        return json.load(f)["deployedBytecode"]["object"]


def hk(tag, n):
    return run("cast", "keccak", run("cast", "abi-encode", "--packed", "f(string,uint16)", tag, str(n)))


class Demo:
    def __init__(self):
        for addr, art, name in [(STAKING, "StakingMock.sol", "StakingMock"), (ALPHA, "AlphaMock.sol", "AlphaMock"),
                                (MAPPING, "AddressMappingMock.sol", "AddressMappingMock")]:
            run("cast", "rpc", "--rpc-url", RPC, "anvil_setCode", addr, code_of(art, name))
        print("precompile mocks placed at 0x…0805 (StakingV2), 0x…0808 (Alpha), 0x…080C (AddressMapping)")
        for n, p in PRICES.items():
            send(DEPLOYER, STAKING, "setSubnet(uint256,uint128,bool)", n, p, "false")
        run("forge", "script", "script/Deploy.s.sol:Deploy", "--rpc-url", RPC, "--broadcast",
            "--private-key", DEPLOYER, "-q")
        with open(os.path.join(ROOT, "deployments", "31337.json")) as f:
            d = json.load(f)
        self.t = d["tao20"]
        self.vault = call(self.t, "vault()(bytes32)")
        expected_vault = call(STAKING, "mirrorOf(address)(bytes32)", self.t)
        print(f"TAO20 at {self.t}, deploy block {d['deployBlock']}, vault coldkey {self.vault}")
        expect(self.vault == expected_vault, "vault = blake2_256(\"evm:\" ++ contract), from AddressMapping")
        expect(len(d["abi"]) > 50, "deployments/31337.json carries the ABI")
        expect(call(self.t, "owner()(address)").lower() == d["timelock"].lower(),
               "TAO20 is owned by the governance timelock")
        self.fund_hk = {n: call(self.t, "fundHotkey(uint16)(bytes32)", n) for n in NETUIDS}
        self.miner_hk = {n: hk("tao20.demo.minerhk", n) for n in NETUIDS}

    def stake(self, hotkey, coldkey, n):
        return ucall(STAKING, "getStake(bytes32,bytes32,uint256)(uint256)", hotkey, coldkey, n)

    def snapshot(self, title):
        s = {
            "block": block(),
            "supply": ucall(self.t, "totalSupply()(uint256)"),
            "miner_shares": ucall(self.t, "balanceOf(address)(uint256)", MINER),
            "fee_shares": ucall(self.t, "balanceOf(address)(uint256)", FEE_RECIPIENT),
            "fund_native_wei": ucall(self.t, "fundNativeBalance()(uint256)"),
            "miner_wei": int(run("cast", "balance", "--rpc-url", RPC, MINER)),
        }
        for n in NETUIDS:
            s[f"fund_stake_{n}"] = self.stake(self.fund_hk[n], self.vault, n)
            s[f"vault_delivery_{n}"] = self.stake(self.miner_hk[n], self.vault, n)
            s[f"miner_coldkey_{n}"] = self.stake(self.miner_hk[n], MINER_COLDKEY, n)
            s[f"redeemer_coldkey_{n}"] = self.stake(self.fund_hk[n], REDEEM_COLDKEY, n)
        print(f"  [{title}] block {s['block']}: supply {s['supply']}, miner shares {s['miner_shares']}, "
              f"fee shares {s['fee_shares']}, fund native {s['fund_native_wei']} wei, miner {s['miner_wei']} wei")
        for n in NETUIDS:
            print(f"    netuid {n}: fund {s[f'fund_stake_{n}']}, vault/delivery hotkey {s[f'vault_delivery_{n}']}, "
                  f"miner coldkey {s[f'miner_coldkey_{n}']}, redeemer coldkey {s[f'redeemer_coldkey_{n}']} (rao)")
        return s

    def request(self, units):
        nonce = ucall(self.t, "nonces(address)(uint256)", MINER)
        send(MINER_KEY, self.t, "requestCreation(uint32,bytes32,address,uint256)", units, MINER_COLDKEY, MINER, 0,
             value=BOND)
        rid = run("cast", "keccak", run("cast", "abi-encode", "f(uint256,address,address,uint256)", "31337",
                                          self.t, MINER, str(nonce)))
        return rid

    def deliver(self, amounts):
        """The miner's substrate extrinsic, simulated on the staking mock: its alpha moves to the vault."""
        receipt = None
        for n, amount in amounts.items():
            send(DEPLOYER, STAKING, "setStake(bytes32,bytes32,uint256,uint256)", self.miner_hk[n], MINER_COLDKEY, n,
                 amount)
            receipt = send(MINER_KEY, STAKING, "transferStakeFrom(bytes32,bytes32,bytes32,uint256,uint256)",
                           MINER_COLDKEY, self.vault, self.miner_hk[n], n, amount)
        return int(receipt["blockNumber"], 0), int(receipt["transactionIndex"], 0)

    def status(self, rid):
        out = run("cast", "call", "--rpc-url", RPC, self.t,
                  "request(bytes32)((address,uint32,uint64,address,uint40,uint8,uint48,bytes32,uint128,uint128))", rid)
        return int(out.strip("()").split(",")[5].strip().split()[0])

    def main(self):
        print("\n== step 0: initial state")
        self.snapshot("start")

        print("\n== step 1: the quorum publishes epoch 0's creation file (4 of 5 signatures, made now)")
        keeper("publish(uint16[])", "[" + ",".join(map(str, NETUIDS)) + "]")
        assets = run("cast", "call", "--rpc-url", RPC, self.t, "epochAssets(uint64)((uint16,uint64,uint16)[])", "0")
        print(f"  stored creation file: {assets}")
        qty = {}
        for part in assets.strip("[]").split("), ("):
            n, q, _w = [int(x.strip("() ").split()[0]) for x in part.split(",")]
            qty[n] = q
        expect(sorted(qty) == NETUIDS and all(v > 0 for v in qty.values()), "epoch 0 published with 3 assets")

        print("\n== step 2: a creation, delivered in full and minted by a 4-of-5 quorum")
        before = self.snapshot("before")
        rid = self.request(1)
        expect(self.status(rid) == 1, f"request {rid[:18]}… is Pending, bond {BOND} wei held")
        dblock, dindex = self.deliver(qty)
        keeper("mint(bytes32,uint64,uint32)", rid, dblock, dindex)
        after = self.snapshot("after")
        expect(self.status(rid) == 2, "request Minted")
        expect(after["miner_shares"] > 0, f"miner received {after['miner_shares']} shares")
        expect(after["fee_shares"] > before["fee_shares"], "mint fee paid in shares to the fee recipient")
        for n in NETUIDS:
            expect(after[f"fund_stake_{n}"] == before[f"fund_stake_{n}"] + qty[n],
                   f"netuid {n}: {qty[n]} rao moved onto the fund hotkey (moveStake)")
            expect(after[f"vault_delivery_{n}"] == 0, f"netuid {n}: nothing left on the delivery hotkey")
        expect(after["fund_native_wei"] == 0, "the bond is not the fund's")
        receipt = send(MINER_KEY, self.t, "claimBond(bytes32)", rid)
        gas_wei = int(receipt["gasUsed"], 0) * int(receipt["effectiveGasPrice"], 0)
        claimed = int(run("cast", "balance", "--rpc-url", RPC, MINER)) - after["miner_wei"] + gas_wei
        expect(claimed == BOND, f"the miner pulled its bond back ({claimed} wei, claimBond)")
        expect(ucall(self.t, "fundNativeBalance()(uint256)") == 0, "and the fund's native balance is untouched")

        print("\n== step 3: a failed delivery (one asset missing), refunded by the quorum after expiry")
        before = self.snapshot("before")
        rid2 = self.request(1)
        partial = {n: qty[n] for n in NETUIDS[:2]}
        dblock2, dindex2 = self.deliver(partial)
        mid = self.snapshot("delivered")
        for n in partial:
            expect(mid[f"vault_delivery_{n}"] == qty[n], f"netuid {n}: delivery sits in the vault")
        res = subprocess.run(["forge", "script", "script/DemoKeeper.s.sol:DemoKeeper", "--sig",
                              "mint(bytes32,uint64,uint32)", rid2, str(dblock2), str(dindex2), "--rpc-url", RPC,
                              "--private-key", DEPLOYER, "-q"], cwd=ROOT, text=True, capture_output=True)
        expect(res.returncode != 0 and "outside tolerance" in (res.stdout + res.stderr),
               "the keeper refuses to sign a mint for the incomplete basket")
        expiry = int(call(self.t, "DELIVERY_WINDOW()(uint32)")) + dblock2
        mine(expiry - block() + 1)
        keeper("refund(bytes32,uint64,uint32)", rid2, dblock2, dindex2)
        after = self.snapshot("after")
        expect(self.status(rid2) == 3, "request Refunded")
        for n in partial:
            expect(after[f"miner_coldkey_{n}"] == before[f"miner_coldkey_{n}"] + qty[n],
                   f"netuid {n}: {qty[n]} rao back on the miner's coldkey (transferStake)")
            expect(after[f"vault_delivery_{n}"] == 0, f"netuid {n}: vault delivery hotkey emptied")
            expect(after[f"fund_stake_{n}"] == before[f"fund_stake_{n}"], f"netuid {n}: fund untouched")
        expect(after["fund_native_wei"] == BOND, "the forfeited bond went to the fund")
        expect(after["miner_shares"] == before["miner_shares"], "no shares for a failed delivery")

        print("\n== step 4: the miner redeems half its shares in kind")
        before = self.snapshot("before")
        shares = before["miner_shares"] // 2
        count = ucall(self.t, "positionCount()(uint256)")
        mins = "[" + ",".join(["0"] * count) + "]"
        skip = "[" + ",".join(["false"] * count) + "]"
        receipt = send(MINER_KEY, self.t, "redeem(uint256,bytes32,uint256[],bool[])", shares, REDEEM_COLDKEY, mins,
                       skip)
        gas_wei = int(receipt["gasUsed"], 0) * int(receipt["effectiveGasPrice"], 0)
        after = self.snapshot("after")
        expect(after["miner_shares"] == before["miner_shares"] - shares, f"{shares} shares redeemed")
        for n in NETUIDS:
            got = after[f"redeemer_coldkey_{n}"] - before[f"redeemer_coldkey_{n}"]
            expect(got > 0 and after[f"fund_stake_{n}"] == before[f"fund_stake_{n}"] - got,
                   f"netuid {n}: {got} rao transferred to the redeemer's coldkey")
        native = after["miner_wei"] - before["miner_wei"] + gas_wei
        expect(native > 0 and after["fund_native_wei"] == before["fund_native_wei"] - native,
               f"native TAO position paid: {native} wei")
        expect(after["fee_shares"] > before["fee_shares"], "redeem fee paid in shares")
        print("\nDEMO OK: publication, creation (4-of-5), refund after expiry and redemption all behaved.")


if __name__ == "__main__":
    Demo().main()
