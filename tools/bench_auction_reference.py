#!/usr/bin/env python3
"""Winner selection: TAO20's exact engine against the Python original's formulation.

For each size (miners x workers per miner) the instance comes from `tao20 auction generate`
(seed 20, the same instances the criterion benchmark solves). The reference is the original's
`_solve_ilp_indices`: expand every bid into worker items, drop items above the price cap, scale
hashrate and cost to integers with 1e6 (float rounding, as the original), one binary variable per
item, the big-M objective `value x (cap + 1) - cost` and PuLP's bundled CBC with `threads 1`,
`randomSeed 1` and `maxNodes 100000`. Its time covers building and solving the model, as in the
original; the Rust time is the wall time of the whole `tao20 auction solve` process (start-up, JSON
parsing, solving, verification and output), the best of three runs.

Prints one line per size: both times, the ratio and both totals (the reference's total is
recomputed exactly from the items it chose, and checked against the budget exactly).

Usage: tools/bench_auction_reference.py [--tao20 PATH] [--sizes 16x20,64x100,256x300,256x1000]
Installs PuLP into a virtualenv under the Cargo target directory if it is missing.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20
ILP_SCALE = 1_000_000
MAX_NODES = 100_000


def ensure_pulp():
    try:
        import pulp  # noqa: F401
        return
    except ImportError:
        pass
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    venv = target / "bench-pyvenv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "pulp"], check=True)
    # Re-run this script inside the virtualenv.
    os.execv(str(py), [str(py), *sys.argv])


def reference_select(instance):
    """The original's formulation; returns (seconds, chosen items as (hashrate, price) Decimals)."""
    import pulp

    start = time.perf_counter()
    budget_ph = float(instance["budget_ph"])
    max_price = Decimal(instance["max_price_multiplier"])
    items = []
    for bid in instance["bids"]:
        price = Decimal(bid["price"])
        if price > max_price:
            continue
        hr = Decimal(bid["hashrate"])
        for _ in range(int(bid.get("count", 1))):
            items.append((hr, price))
    cap = int((budget_ph * ILP_SCALE) // 1)
    keep, costs, vals = [], [], []
    for i, (hr, price) in enumerate(items):
        raw_ph = float(hr)
        c = int(max(0, int(round(raw_ph * float(price) * ILP_SCALE + 0.0000001))))
        v = int(max(0, int(round(raw_ph * ILP_SCALE + 0.0000001))))
        if c > 0 and v > 0 and c <= cap:
            keep.append(i)
            costs.append(c)
            vals.append(v)
    prob = pulp.LpProblem("auction_knap", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{k}", lowBound=0, upBound=1, cat=pulp.LpBinary) for k in range(len(keep))]
    cost_expr = pulp.lpSum(costs[k] * x[k] for k in range(len(keep)))
    value_expr = pulp.lpSum(vals[k] * x[k] for k in range(len(keep)))
    prob += cost_expr <= cap
    prob += (value_expr * (cap + 1)) - cost_expr
    solver = pulp.PULP_CBC_CMD(msg=False, options=["threads 1", "randomSeed 1", f"maxNodes {MAX_NODES}"])
    prob.solve(solver)
    chosen = [items[i] for k, i in enumerate(keep) if (x[k].value() or 0) >= 0.5]
    return time.perf_counter() - start, chosen


def rust_select(tao20, path):
    best = None
    out = None
    for _ in range(3):
        start = time.perf_counter()
        res = subprocess.run([tao20, "auction", "solve", "--input", path], check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        out = json.loads(res.stdout)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tao20", help="path to the tao20 binary (default: build it in release mode)")
    ap.add_argument("--sizes", default="16x20,64x100,256x300,256x1000")
    args = ap.parse_args()
    ensure_pulp()
    tao20 = args.tao20
    if tao20 is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "tao20-cli"], check=True, cwd=ROOT)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        tao20 = str(target / "release" / "tao20")
    print(f"{'size':>9} {'rust ms':>9} {'ref ms':>10} {'ratio':>8} {'rust PH':>10} {'ref PH':>10} {'ref within budget':>17}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            miners, workers = size.split("x")
            gen = subprocess.run(
                [tao20, "auction", "generate", "--miners", miners, "--workers", workers, "--seed", str(SEED)],
                check=True, capture_output=True,
            )
            path = os.path.join(tmp, f"{size}.json")
            Path(path).write_bytes(gen.stdout)
            instance = json.loads(gen.stdout)
            rust_s, out = rust_select(tao20, path)
            ref_s, chosen = reference_select(instance)
            ref_total = sum((hr for hr, _ in chosen), Decimal(0))
            ref_cost = sum((hr * p for hr, p in chosen), Decimal(0))
            within = ref_cost <= Decimal(instance["budget_ph"])
            rust_total = Decimal(out["total_hashrate"])
            ok = rust_total >= ref_total
            failed |= not ok
            print(f"{size:>9} {rust_s * 1e3:9.1f} {ref_s * 1e3:10.1f} {ref_s / rust_s:7.1f}x "
                  f"{rust_total:>10} {ref_total:>10} {str(within):>17}{'' if ok else '  RUST TOTAL BELOW REFERENCE'}",
                  flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
