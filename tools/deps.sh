#!/usr/bin/env bash
# Installs the system packages and tools the project needs, once; idempotent and quiet when done.
# Registries only (npm, crates.io, PyPI, Debian): nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages some crates or tests need (none yet beyond the base image).
APT_PACKAGES=()
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PyPI scalecodec: the independent SCALE decoder of keeper/chain's offline call-data tests.
SCALECODEC_VERSION=1.2.11
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('scalecodec') != '$SCALECODEC_VERSION')" 2>/dev/null; then
  echo "deps: installing scalecodec==$SCALECODEC_VERSION" >&2
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "scalecodec==$SCALECODEC_VERSION" >&2
fi

# PyPI bittensor-wallet (the library btcli uses): writes the wallets and verifies the signatures of
# keeper/wallet's and the `tao20 wallet` cross-tests. A manylinux wheel, no dependencies.
BTWALLET_VERSION=4.1.1
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('bittensor-wallet') != '$BTWALLET_VERSION')" 2>/dev/null; then
  echo "deps: installing bittensor-wallet==$BTWALLET_VERSION" >&2
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "bittensor-wallet==$BTWALLET_VERSION" >&2
fi
