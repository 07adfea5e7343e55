#!/usr/bin/env python3
"""EIP-712 by eth-account (a client nobody on this project wrote): reads messages as JSON on stdin,
prints each one's digest, its signature by a given key, and the address the keeper's signature
recovers to. Used by keeper/creation/tests/eth_account.rs."""
import json
import sys

try:
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak
except ImportError as e:  # a missing client must fail the test, not skip it
    sys.stderr.write(f"eth-account is not importable by {sys.executable}: {e} (run `make deps`)\n")
    sys.exit(3)

TYPES = {
    "Asset": [("netuid", "uint16"), ("qtyPerUnit", "uint64"), ("weightBps", "uint16")],
    "CreationFile": [("epochId", "uint64"), ("validFromBlock", "uint64"), ("validUntilBlock", "uint64"),
                     ("sharesPerUnit", "uint256"), ("toleranceBps", "uint16"), ("minUnits", "uint32"),
                     ("assets", "Asset[]"), ("signerSetVersion", "uint64")],
    "Position": [("netuid", "uint16"), ("hotkey", "bytes32"), ("amount", "uint64")],
    "CreationReport": [("requestId", "bytes32"), ("epochId", "uint64"), ("creationFileHash", "bytes32"),
                       ("receiver", "address"), ("units", "uint32"), ("positions", "Position[]"),
                       ("deliveryBlock", "uint64"), ("deliveryIndex", "uint32"), ("valueRao", "uint256"),
                       ("navPerShare", "uint256"), ("signerSetVersion", "uint64")],
    "RefundReport": [("requestId", "bytes32"), ("coldkey", "bytes32"), ("positions", "Position[]"),
                     ("deliveryBlock", "uint64"), ("deliveryIndex", "uint32"), ("signerSetVersion", "uint64")],
    "Sweep": [("positions", "Position[]"), ("nonce", "uint64"), ("signerSetVersion", "uint64")],
}
REFS = {"CreationFile": ["Asset"], "CreationReport": ["Position"], "RefundReport": ["Position"], "Sweep": ["Position"]}
INTS = ("uint",)


def convert(type_name, value):
    out = {}
    for name, t in TYPES[type_name]:
        v = value[name]
        if t.endswith("[]"):
            out[name] = [convert(t[:-2], x) for x in v]
        elif t.startswith(INTS):
            out[name] = int(v)
        elif t == "bytes32":
            out[name] = bytes.fromhex(v[2:])
        else:
            out[name] = v
    return out


def main():
    req = json.load(sys.stdin)
    results = []
    for item in req["messages"]:
        primary = item["type"]
        types = {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                  {"name": "chainId", "type": "uint256"},
                                  {"name": "verifyingContract", "type": "address"}]}
        for t in [primary] + REFS.get(primary, []):
            types[t] = [{"name": n, "type": ty} for n, ty in TYPES[t]]
        full = {
            "types": types,
            "primaryType": primary,
            "domain": {"name": "TAO20", "version": "1", "chainId": req["chainId"],
                       "verifyingContract": req["contract"]},
            "message": convert(primary, item["value"]),
        }
        signable = encode_typed_data(full_message=full)
        digest = "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()
        signed = Account.sign_message(signable, private_key=req["key"])
        recovered = Account.recover_message(signable, signature=bytes.fromhex(item["keeperSignature"][2:]))
        results.append({"digest": digest, "signature": "0x" + signed.signature.hex(), "recovered": recovered})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
