#!/usr/bin/env python3
"""A `tao20 miner bid` hook for the devnet: routes "hashrate" to the fixture pool for won windows.

The bidder runs this once per event with one JSON document on stdin (see docs/miners.md). For a
window the miner won, it sets one fixture worker per winning worker, named `{hotkey}.rigN` (the
keepers match pool workers on the hotkey after the configured subaccount), at the won size; for a
lost or banned window it removes them. Every event is appended to $TAO20_HOOK_LOG when set.

    [hooks]
    command = ["python3", "examples/devnet-rig-hook.py"]

Environment: TAO20_FIXTURE_URL (the devnet's `fixtureUrl` in devnet.json).
"""

import json
import os
import sys
import urllib.request
from decimal import Decimal

PH = Decimal(10) ** 15


def set_worker(base: str, name: str, hashrate_hs: int) -> None:
    body = json.dumps({"hashrate": str(hashrate_hs)}).encode()
    req = urllib.request.Request(
        f"{base}/fixture/workers/{name}", data=body, method="PUT",
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        resp.read()


def main() -> int:
    event = json.load(sys.stdin)
    log = os.environ.get("TAO20_HOOK_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
    if event.get("event") != "window":
        return 0
    base = os.environ.get("TAO20_FIXTURE_URL")
    if not base:
        print("TAO20_FIXTURE_URL is not set", file=sys.stderr)
        return 2
    hotkey = event["hotkey"]
    rigs = []
    if event.get("result") == "won":
        for row in event.get("deliver", []):
            for _ in range(int(row["count"])):
                rigs.append(int(Decimal(row["hashrate"]) * PH))
    for i, hs in enumerate(rigs, start=1):
        set_worker(base, f"{hotkey}.rig{i}", hs)
    # Rigs beyond this window's needs are switched off (0 removes a worker).
    for i in range(len(rigs) + 1, len(rigs) + 9):
        set_worker(base, f"{hotkey}.rig{i}", 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
