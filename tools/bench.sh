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
echo "==> criterion"
cargo bench --workspace
echo "==> auction winner selection against the Python original's PuLP/CBC formulation (10-15 min)"
python3 tools/bench_auction_reference.py
