#!/usr/bin/env bash
# `make demo`: TAO20 end to end on a throwaway anvil. Starts anvil on a free 127.0.0.1 port (killed
# on exit), places the precompile mocks, deploys with script/Deploy.s.sol, then tools/demo.py drives
# an epoch publication, a 4-of-5-signed creation, a failed delivery refunded after expiry and a
# redemption, printing chain state before and after each step; any step that misbehaves fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

forge build -q
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
anvil --host 127.0.0.1 --port "$port" --chain-id 31337 >"$log" 2>&1 &
anvil_pid=$!
cleanup() { kill "$anvil_pid" 2>/dev/null || true; wait "$anvil_pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT INT TERM

export RPC_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  cast block-number --rpc-url "$RPC_URL" >/dev/null 2>&1 && break
  sleep 0.1
done
cast block-number --rpc-url "$RPC_URL" >/dev/null || { echo "demo: anvil did not start" >&2; cat "$log" >&2; exit 1; }
echo "demo: anvil on $RPC_URL (pid $anvil_pid)"
python3 tools/demo.py
