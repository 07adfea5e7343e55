#!/usr/bin/env bash
# Benchmarks: contract code size, forge gas snapshots and criterion (Rust). Kept out of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
echo "==> contract code size (EIP-170 limit: 24 576 bytes of runtime code; the core keeps >= 1 000 free)"
forge build --sizes --json 2>/dev/null | python3 tools/code_size.py
echo "==> forge gas snapshots (snapshots/)"
# Cold by construction (vm.cool), so the numbers match `FORGE_SNAPSHOT_CHECK=true forge test`.
forge test --mc GasTest -vv
cat snapshots/TAO20.json
echo "==> RPC requests per finalized block on the devnet's Substrate endpoint (tao20 demo --quick)"
forge build -q
cargo run -q -p tao20-cli -- demo --quick --out target/bench-demo >/dev/null 2>&1 || true
python3 - <<'PY'
import json
r = json.load(open("target/bench-demo/report.json"))
load = r["nodeLoad"]
print(f"node: {load['requests']} requests over {load['blocks']} blocks = "
      f"{load['requests'] / max(load['blocks'], 1):.1f} per block (every process and the harness)")
lat = r.get("mintLatency")
if lat:
    print(f"delivery block to mint block: median {lat['median']} blocks, longest {lat['max']}, "
          f"over {lat['mints']} mints")
for c in r["clients"]:
    if c.get("requests") and c.get("blocks"):
        print(f"{c['process']}: {c['requests']} requests / {c['blocks']} blocks = "
              f"{c['requests'] / c['blocks']:.1f} per block ({c['client']})")
PY
echo "==> the five-keeper demo in release builds: the fastest block time at which all keepers keep up"
cargo build -q --release -p tao20-cli
python3 tools/bench_block_time.py
echo "==> criterion, and the keeper's catch-up through a 50 ms relay (keeper/node/benches/catch_up.rs)"
cargo bench --workspace
echo "==> auction winner selection against the Python original's PuLP/CBC formulation (10-15 min)"
python3 tools/bench_auction_reference.py
