#!/usr/bin/env python3
"""An integrator's path to TAO20 from its deployment file alone, with a standard client (web3.py).

Requests a creation on a running devnet (or any chain the deployment file describes) and decodes the
`CreationRequested` event from the receipt, using only the ABI in the deployment file:

    python3 examples/integrator.py DIR/deployment.json http://127.0.0.1:PORT [--units N]

Prints one JSON line: the request id, the delivery window and the remark the delivery must carry.
The key is anvil's second development account (never use it anywhere else).
"""
import argparse
import json
import sys

from web3 import Web3

ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("deployment")
    ap.add_argument("rpc")
    ap.add_argument("--units", type=int, default=1)
    ap.add_argument("--coldkey", default="0x" + "c0" * 32, help="the substrate coldkey that will deliver")
    args = ap.parse_args()

    with open(args.deployment) as f:
        deployment = json.load(f)
    w3 = Web3(Web3.HTTPProvider(args.rpc))
    if not w3.is_connected():
        sys.exit(f"cannot reach {args.rpc}")
    account = w3.eth.account.from_key(ANVIL_KEY_1)
    fund = w3.eth.contract(address=Web3.to_checksum_address(deployment["tao20"]), abi=deployment["abi"])

    epoch = fund.functions.epochAt(w3.eth.block_number).call()
    min_units = fund.functions.epoch(epoch).call()[3]
    bond = fund.functions.creationBond().call()
    units = max(args.units, min_units)
    tx = fund.functions.requestCreation(units, bytes.fromhex(args.coldkey[2:]), account.address, 0).build_transaction(
        {
            "from": account.address,
            "value": bond,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": deployment["chainId"],
        }
    )
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.1)
    if receipt["status"] != 1:
        sys.exit(f"requestCreation reverted in block {receipt['blockNumber']}")
    (event,) = fund.events.CreationRequested().process_receipt(receipt)
    request_id = event["args"]["requestId"]
    remark = fund.functions.deliveryRemark(request_id).call()
    print(json.dumps({
        "requestId": "0x" + request_id.hex(),
        "miner": event["args"]["miner"],
        "epochId": event["args"]["epochId"],
        "units": event["args"]["units"],
        "requestBlock": event["args"]["requestBlock"],
        "expiryBlock": event["args"]["expiryBlock"],
        "bondWei": str(event["args"]["bond"]),
        "deliveryRemark": "0x" + remark.hex(),
        "block": receipt["blockNumber"],
    }))


if __name__ == "__main__":
    main()
