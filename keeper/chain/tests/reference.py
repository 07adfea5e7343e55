#!/usr/bin/env python3
"""Reference implementations for keeper/chain's cross-checks, none of them written by this project:
PyPI `bittensor-drand` 2.0.0 (opentensor's commit-reveal v4 client) and PyPI `xxhash` (the xxHash
binding), both installed by tools/deps.sh.

Usage: reference.py COMMAND < JSON, printing JSON on stdout.
- `rounds`  {"states": [{...get_encrypted_commit_v2 arguments...}]}
            -> [{"round": r, "t0": s, "t1": s, "commit": hex} | {"error": msg}]: the reveal round
            and commit bittensor-drand returns, with the wall clock's whole seconds read just before
            and just after the call (bittensor-drand reads the clock itself).
- `decrypt` {"ciphertext": hex, "signature": hex} -> {"plaintext": hex}
- `encrypt` {"plaintext": hex, "round": r} -> {"ciphertext": hex}
- `keys`    {"keys": [{"pallet", "item", "hasher": "Identity" | "Twox64Concat", "netuid"}]}
            -> [hex]: substrate storage keys, twox128(pallet) ++ twox128(item) ++ hasher(netuid LE).

A missing or wrong package exits with status 3 and says what to install.
"""
import importlib.metadata
import json
import math
import sys
import time

BITTENSOR_DRAND = "2.0.0"


def need(module, dist, version=None):
    try:
        found = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        sys.exit(fail(f"PyPI {dist} is not installed (run tools/deps.sh)"))
    if version is not None and found != version:
        sys.exit(fail(f"PyPI {dist} {found} is installed, the cross-check needs {version} (run tools/deps.sh)"))
    return __import__(module)


def fail(message):
    print(f"reference.py: {message}", file=sys.stderr)
    return 3


def rounds(request):
    bd = need("bittensor_drand", "bittensor-drand", BITTENSOR_DRAND)
    out = []
    for s in request["states"]:
        t0 = math.floor(time.time())
        try:
            commit, round_ = bd.get_encrypted_commit_v2(
                uids=s["uids"],
                weights=s["weights"],
                version_key=s["version_key"],
                last_epoch_block=s["last_epoch_block"],
                pending_epoch_at=s["pending_epoch_at"],
                subnet_epoch_index=s["subnet_epoch_index"],
                tempo=s["tempo"],
                blocks_since_last_step=s["blocks_since_last_step"],
                current_block=s["current_block"],
                subnet_reveal_period_epochs=s["subnet_reveal_period_epochs"],
                block_time=s["block_time"],
                hotkey=bytes.fromhex(s["hotkey"]),
            )
        except ValueError as e:
            out.append({"error": str(e)})
            continue
        t1 = math.floor(time.time())
        out.append({"round": round_, "t0": t0, "t1": t1, "commit": commit.hex()})
    return out


def decrypt(request):
    bd = need("bittensor_drand", "bittensor-drand", BITTENSOR_DRAND)
    plain = bd.decrypt_with_signature(bytes.fromhex(request["ciphertext"]), request["signature"])
    return {"plaintext": plain.hex()}


def encrypt(request):
    bd = need("bittensor_drand", "bittensor-drand", BITTENSOR_DRAND)
    ct, _ = bd.encrypt_at_round(bytes.fromhex(request["plaintext"]), request["round"])
    return {"ciphertext": ct.hex()}


def keys(request):
    xxhash = need("xxhash", "xxhash")

    def twox(data, n):
        return b"".join(xxhash.xxh64(data, seed=i).intdigest().to_bytes(8, "little") for i in range(n))

    out = []
    for k in request["keys"]:
        key = twox(k["pallet"].encode(), 2) + twox(k["item"].encode(), 2)
        encoded = k["netuid"].to_bytes(2, "little")
        if k["hasher"] == "Twox64Concat":
            key += twox(encoded, 1) + encoded
        elif k["hasher"] == "Identity":
            key += encoded
        else:
            sys.exit(fail(f"unknown hasher {k['hasher']}"))
        out.append(key.hex())
    return out


def main():
    commands = {"rounds": rounds, "decrypt": decrypt, "encrypt": encrypt, "keys": keys}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(fail(f"usage: reference.py {{{','.join(commands)}}} < JSON"))
    print(json.dumps(commands[sys.argv[1]](json.load(sys.stdin))))


if __name__ == "__main__":
    main()
