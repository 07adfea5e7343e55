"""The devnet's Substrate endpoint through the client the bittensor SDK uses.

`async-substrate-interface` (PyPI, with its own SCALE codec, cyscale) connects to the URL given,
decodes the served metadata, reads what the Rust test asks for at the finalized head, signs and
submits an `add_stake` as //Alice, and submits three broken extrinsics. It prints one JSON object;
the Rust test (`substrate_node.rs`) compares it with what the simulator holds.

Usage: substrate_client.py WS_URL HOTKEY_SS58 COLDKEY_SS58 COMMITTER_SS58
       substrate_client.py positions WS_URL BLOCK COLDKEY_SS58 NETUID:HOTKEY_SS58 ...
The second form reads a coldkey's stake on each (netuid, hotkey) at a block (a devnet test
compares it with `tao20 fund status --json`).
"""

import asyncio
import json
import sys
import urllib.request

from async_substrate_interface import AsyncSubstrateInterface
from bittensor_wallet import Keypair


def plain(v):
    """Decoded values as JSON: bytes as 0x hex, everything else as decoded."""
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def value(r):
    return plain(getattr(r, "value", r))


async def refused(url, extrinsic):
    """Submits an extrinsic over the endpoint's HTTP side (the same port), so the node's whole
    error object comes back; returns its `data` (the reason), or None if it was accepted."""
    data = extrinsic if isinstance(extrinsic, str) else "0x" + bytes(extrinsic.data.data).hex()
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "author_submitExtrinsic", "params": [data]}
    ).encode()
    request = urllib.request.Request(
        url.replace("ws://", "http://"), body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        answer = json.load(r)
    error = answer.get("error")
    return None if error is None else f"{error['code']} {error['message']}: {error.get('data')}"


async def main(url, hotkey, coldkey, committer):
    out = {}
    async with AsyncSubstrateInterface(url, ss58_format=42) as s:
        head = await s.get_chain_finalised_head()
        out["head"] = await s.get_block_number(head)
        out["spec_version"] = (await s.init_runtime(block_hash=head)).runtime_version
        out["tempo"] = value(await s.query("SubtensorModule", "Tempo", [1], block_hash=head))
        out["weights"] = value(
            await s.query("SubtensorModule", "Weights", [4097, 2], block_hash=head)
        )
        out["commitment"] = value(
            await s.query("Commitments", "CommitmentOf", [1, committer], block_hash=head)
        )
        stake = await s.runtime_call(
            "StakeInfoRuntimeApi",
            "get_stake_info_for_hotkey_coldkey_netuid",
            [hotkey, coldkey, 1],
            block_hash=head,
        )
        out["stake"] = value(stake)
        alice = Keypair.create_from_uri("//Alice")
        call = await s.compose_call(
            "SubtensorModule",
            "add_stake",
            {"hotkey": hotkey, "netuid": 1, "amount_staked": 3_000_000_000},
        )
        ext = await s.create_signed_extrinsic(call=call, keypair=alice, era={"period": 64})
        receipt = await s.submit_extrinsic(
            ext, wait_for_inclusion=True, wait_for_finalization=True
        )
        out["add_stake_success"] = await receipt.is_success
        out["add_stake_block"] = await s.get_block_number(receipt.block_hash)
        after = await s.runtime_call(
            "StakeInfoRuntimeApi",
            "get_stake_info_for_hotkey_coldkey_netuid",
            [hotkey, alice.ss58_address, 1],
            block_hash=receipt.block_hash,
        )
        out["alice_stake"] = value(after)
        events = plain(await s.get_events(block_hash=receipt.block_hash))
        out["events"] = [[e["event"]["module_id"], e["event"]["event_id"]] for e in events]

        nonce = await s.get_account_next_index(alice.ss58_address)
        stale = await s.create_signed_extrinsic(call=call, keypair=alice, nonce=nonce - 1)
        out["stale"] = await refused(url, stale)
        tampered = await s.create_signed_extrinsic(call=call, keypair=alice, nonce=nonce)
        raw = bytearray(bytes(tampered.data.data))
        raw[40] ^= 1  # inside the signature (after length, version and address)
        out["tampered"] = await refused(url, "0x" + raw.hex())
        # Signed for another chain: the genesis hash in the signed payload is not this node's.
        real = s.get_block_hash

        async def other_genesis(n=None, *args, **kwargs):
            return "0x" + "07" * 32 if n == 0 else await real(n, *args, **kwargs)

        s.get_block_hash = other_genesis
        wrong = await s.create_signed_extrinsic(call=call, keypair=alice, nonce=nonce)
        s.get_block_hash = real
        out["wrong_genesis"] = await refused(url, wrong)
        # The genuine one, after all that, still goes in.
        good = await s.create_signed_extrinsic(call=call, keypair=alice, nonce=nonce)
        out["good_after"] = await refused(url, good)
    print(json.dumps(out, default=str))


async def positions(url, block, coldkey, *pairs):
    out = {"stakes": []}
    async with AsyncSubstrateInterface(url, ss58_format=42) as s:
        at = await s.get_block_hash(int(block))
        out["block_hash"] = at
        for pair in pairs:
            netuid, hotkey = pair.split(":", 1)
            info = await s.runtime_call(
                "StakeInfoRuntimeApi",
                "get_stake_info_for_hotkey_coldkey_netuid",
                [hotkey, coldkey, int(netuid)],
                block_hash=at,
            )
            info = value(info)
            out["stakes"].append(
                {"netuid": int(netuid), "stake": 0 if info is None else info["stake"]}
            )
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    if sys.argv[1] == "positions":
        asyncio.run(positions(*sys.argv[2:]))
    else:
        asyncio.run(main(*sys.argv[1:5]))
