#!/usr/bin/env bash
# Writes the ABIs the Rust bindings are generated from into keeper/bevm/abi/ (run after changing a
# contract; `cargo test -p tao20-bevm` fails until they agree with the forge artifacts).
# TAO20.json is what integrators see at the fund's address, as deployments/<chainid>.json carries it:
# ITAO20 (every entry point, the cold ones served by the settlement module through the core's
# fallback), EventsLib, ErrorsLib and OpenZeppelin's IERC20Errors.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
forge build -q
python3 tools/abi.py write
echo "keeper/bevm/abi/ updated"
