#!/usr/bin/env bash
# `make demo`: the whole system on a devnet (`tao20 demo`): anvil, the subtensor simulator, the
# pool and price fixture, five keepers as separate processes (one faulty), creation miners, a
# holder and bidders, with a keeper killed and restarted, a keeper cut off its RPC, a price
# manipulation and an under-delivering bidder. Writes target/demo/report.json and report.html and
# exits non-zero if any check fails. Extra arguments go to `tao20 demo` (e.g. --quick, --seed N).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

forge build -q
exec cargo run -q -p tao20-cli -- demo --out target/demo "$@"
