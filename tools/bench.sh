#!/usr/bin/env bash
# Benchmarks: criterion (Rust) and forge gas snapshots. Kept out of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
echo "==> forge gas snapshots (snapshots/)"
# Cold by construction (vm.cool), so the numbers match `FORGE_SNAPSHOT_CHECK=true forge test`.
forge test --mc GasTest -vv
cat snapshots/TAO20.json
echo "==> criterion"
cargo bench --workspace
echo "==> auction winner selection against the Python original's PuLP/CBC formulation (10-15 min)"
python3 tools/bench_auction_reference.py
