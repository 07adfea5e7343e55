#!/usr/bin/env python3
"""The five-keeper demo in release builds: the fastest block time at which every keeper keeps up.

Runs `tao20 demo --quick --block-ms MS` with the release binary for each block time, from the
demo's 200 ms down, and prints per run: the checks passed, and each keeper's finality lag
(median and largest of its one-second samples). A run keeps up when every check passes and every
keeper's median lag is at most KEEP_UP_LAG blocks; the search stops at the first run that does
not. The reference, in the same run, is the demo's own block time (200 ms).
"""
import json
import subprocess
import sys
import time

TIMES_MS = [int(t) for t in (sys.argv[1:] or ["200", "150", "100", "75", "50"])]
KEEP_UP_LAG = 3
BIN = "target/release/tao20"

fastest = None
for ms in TIMES_MS:
    out = f"target/bench-block-time/{ms}"
    start = time.time()
    proc = subprocess.run(
        [BIN, "demo", "--quick", "--block-ms", str(ms), "--out", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    took = time.time() - start
    try:
        report = json.load(open(f"{out}/report.json"))
    except (OSError, ValueError) as e:
        print(f"{ms} ms: no report ({e}); exit {proc.returncode}")
        break
    checks = report["checks"]
    passed = sum(1 for c in checks if c["ok"])
    lags = report.get("keeperLag", [])
    lag_text = ", ".join(f"{l['name'][-1]}: {l['median']}/{l['max']}" for l in lags)
    keeps_up = passed == len(checks) and lags and all(l["median"] <= KEEP_UP_LAG for l in lags)
    blocks = report["params"]["lastBlock"] - report["params"]["firstBlock"]
    print(
        f"{ms:>4} ms: {passed}/{len(checks)} checks, {blocks} blocks in {took:.0f} s, "
        f"lag median/max per keeper {lag_text} -> {'keeps up' if keeps_up else 'falls behind'}"
    )
    for c in checks:
        if not c["ok"]:
            print(f"       failed: {c['name']}: {c['detail'][:200]}")
    if not keeps_up:
        break
    fastest = ms
print(f"fastest block time at which all five keepers keep up: {fastest} ms" if fastest else
      "no block time tried kept up")
