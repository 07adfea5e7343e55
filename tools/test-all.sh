#!/usr/bin/env bash
# Runs every check and test of the project, then prints one closing line `N passed, N failed`:
# N counts forge tests, Rust tests, and each formatting/lint/alert-rules check as one item.
set -uo pipefail
cd "$(dirname "$0")/.."
# A cold build without incremental artifacts is faster and a third smaller; set it to 1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PATH="$PWD/node_modules/.bin:$PATH"
logs=$(mktemp -d)
passed=0
failed=0
failed_steps=()

step() { # step NAME COMMAND...: runs a counted check
  local name=$1; shift
  echo "==> $name" >&2
  local start=$SECONDS
  if "$@" >"$logs/$name.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_steps+=("$name")
    tail -n 60 "$logs/$name.log" >&2
  fi
  echo "    $name: $((SECONDS - start)) s" >&2
}

suite() { # suite NAME COUNTER COMMAND...: runs a test suite and adds up its own counts
  local name=$1 counter=$2; shift 2
  echo "==> $name" >&2
  local start=$SECONDS
  "$@" >"$logs/$name.log" 2>&1
  tally "$name" "$counter" $? "$start"
}

tally() { # tally NAME COUNTER RC START: adds up a finished suite's counts from its log
  local name=$1 counter=$2 rc=$3 start=$4
  read -r p f < <("$counter" "$logs/$name.log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    [ "$f" -eq 0 ] && failed=$((failed + 1)) # a build failure counts as one failure
    grep -E 'FAIL|panicked|error(\[|:)|failed' "$logs/$name.log" | head -n 80 >&2
  fi
  echo "    $name: $p passed, $f failed in $((SECONDS - start)) s" >&2
}

forge_counts() { # "Ran N test suites ...: P tests passed, F failed, S skipped"
  awk '/tests passed, [0-9]+ failed/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "tests" && $(i+2) == "passed,") p = $i; if ($(i+1) == "failed,") f = $i } }
       END { print p + 0, f + 0 }' "$1"
}
cargo_counts() { # "test result: ok. P passed; F failed; ..." once per test binary
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
       END { print p + 0, f + 0 }' "$1"
}

step forge-fmt forge fmt --check
step cargo-fmt cargo fmt --all -- --check
# Library and binary code may not unwrap or panic on input; test code may.
step cargo-clippy cargo clippy --workspace --lib --bins --locked -- -D warnings
step cargo-clippy-tests cargo clippy --workspace --tests --benches --examples --locked -- -D warnings \
  -A clippy::unwrap_used -A clippy::expect_used -A clippy::panic -A clippy::indexing_slicing
# The alerting rules parse and their unit tests pass (promtool comes from tools/deps.sh).
step promtool-check promtool check rules ops/prometheus/tao20-keeper.rules.yml
step promtool-test promtool test rules ops/prometheus/tao20-keeper.rules.test.yml
suite forge-test forge_counts env FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-default}" forge test

# Rust: every test binary is built first; then the tests run in two lanes side by side. The
# devnet tests (real keeper processes on 100-200 ms blocks) run one at a time in their own lane:
# two devnets side by side on two cores leave the keepers lagging their blocks. Everything else
# runs beside them in the other lane.
lane() { # lane NAME COMMAND...: runs in the background; `tally` reads its log once it is done
  local name=$1; shift
  echo "==> $name (lane)" >&2
  ( "$@" >"$logs/$name.log" 2>&1; echo $? >"$logs/$name.rc" ) &
}
devnet=(demo mechanisms ops keepers miners devnet)
devnet_tests=() other_tests=()
for f in keeper/cli/tests/*.rs; do
  t=$(basename "$f" .rs)
  case " ${devnet[*]} " in *" $t "*) devnet_tests+=(--test "$t") ;; *) other_tests+=(--test "$t") ;; esac
done
echo "==> cargo-test-build" >&2
start=$SECONDS
if cargo test --workspace --locked --no-run >"$logs/cargo-test-build.log" 2>&1; then
  echo "    cargo-test-build: $((SECONDS - start)) s" >&2
  start=$SECONDS
  lane cargo-test-devnets cargo test --locked --no-fail-fast -p tao20-cli "${devnet_tests[@]}"
  lane cargo-test bash -c 'cargo test --workspace --exclude tao20-cli --locked --no-fail-fast;
    rc=$?; cargo test --locked --no-fail-fast -p tao20-cli --bins "$@" || rc=1; exit $rc' _ "${other_tests[@]}"
  wait
  for name in cargo-test-devnets cargo-test; do
    tally "$name" cargo_counts "$(cat "$logs/$name.rc")" "$start"
  done
else
  failed=$((failed + 1)); failed_steps+=("cargo-test-build")
  grep -E 'error(\[|:)' -A 12 "$logs/cargo-test-build.log" | head -n 80 >&2
fi

if [ ${#failed_steps[@]} -gt 0 ]; then echo "failing: ${failed_steps[*]} (logs in $logs)" >&2; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
