#!/usr/bin/env bash
# Copies the ABIs of the forge artifacts the Rust bindings are generated from into keeper/bevm/abi/
# (run after changing a contract; `cargo test -p tao20-bevm` fails until they agree).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
forge build -q
for name in TAO20 IStaking IAlpha; do
  python3 -c "import json,sys; json.dump(json.load(open('out/$name.sol/$name.json'))['abi'], open('keeper/bevm/abi/$name.json','w'), indent=1)"
done
echo "keeper/bevm/abi/ updated"
