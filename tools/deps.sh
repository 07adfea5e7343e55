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

# promtool checks and unit-tests ops/prometheus's alerting rules (tools/test-all.sh). Debian ships
# it in the `prometheus` package, which also brings a Prometheus server: only the tool is wanted,
# so the server is stopped and disabled if the package started one.
if ! command -v promtool >/dev/null 2>&1; then
  echo "deps: installing prometheus (for promtool)" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  apt_prometheus() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  }
  # Without fresh package lists the install may not find the package: update only then.
  apt_prometheus 2>/dev/null || { "${sudo[@]}" apt-get update -qq && apt_prometheus; }
  if [ -d /run/systemd/system ]; then
    "${sudo[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ]; then
    "${sudo[@]}" /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
fi

# PyPI packages of keeper/chain's cross-checks, pinned: scalecodec (the independent SCALE decoder of
# the offline call-data tests), bittensor-drand (opentensor's commit-reveal v4 client: reveal rounds
# and timelock ciphertexts), xxhash (storage keys), and bittensor-wallet (the library btcli uses: it
# writes the wallets and verifies the signatures of keeper/wallet's cross-tests), and web3 with
# eth-account (the integrator example, and EIP-712 digests and signatures checked by a client
# nobody here wrote).
PYPI_PACKAGES=(scalecodec==1.2.11 bittensor-drand==2.0.0 xxhash==3.5.0 bittensor-wallet==4.1.1 web3==7.6.0)
for spec in "${PYPI_PACKAGES[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null; then
    echo "deps: installing $spec" >&2
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$spec" >&2
  fi
done

# The devnet's Substrate endpoint is cross-checked with async-substrate-interface (the client the
# bittensor SDK uses) in a virtual environment of its own: its codec (cyscale) installs under the
# `scalecodec` name and its websockets is newer than web3 accepts, so it cannot share the above.
VENV=target/substrate-venv
VENV_PACKAGES=(async-substrate-interface==2.2.1 bittensor-wallet==4.1.1)
if [ ! -x "$VENV/bin/python" ]; then
  echo "deps: creating $VENV" >&2
  mkdir -p target && python3 -m venv "$VENV"
fi
for spec in "${VENV_PACKAGES[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null; then
    echo "deps: installing $spec into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
  fi
done

# bittensor's runtime tables (`bittensor/_generated/`, built from a newer runtime than the checked-in
# metadata) for keeper/chain's tests/runtime_surface.rs. Only those pure-Python files are read, so the
# SDK goes in without its dependencies (which would pull the whole SDK stack into the venv).
VENV_NO_DEPS_PACKAGES=(bittensor==11.3.0)
for spec in "${VENV_NO_DEPS_PACKAGES[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null; then
    echo "deps: installing $spec into $VENV (no dependencies)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$spec" >&2
  fi
done
