#!/usr/bin/env bash
# Runs every check and test of the project, then prints one closing line `N passed, N failed`:
# N counts forge tests, Rust tests, and each formatting/lint/alert-rules check as one item.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
logs=$(mktemp -d)
passed=0
failed=0
failed_steps=()

step() { # step NAME COMMAND...: runs a counted check
  local name=$1; shift
  echo "==> $name" >&2
  if "$@" >"$logs/$name.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_steps+=("$name")
    tail -n 60 "$logs/$name.log" >&2
  fi
}

suite() { # suite NAME COUNTER COMMAND...: runs a test suite and adds up its own counts
  local name=$1 counter=$2; shift 2
  echo "==> $name" >&2
  "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  read -r p f < <("$counter" "$logs/$name.log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    [ "$f" -eq 0 ] && failed=$((failed + 1)) # a build failure counts as one failure
    grep -E 'FAIL|panicked|error(\[|:)|failed' "$logs/$name.log" | head -n 80 >&2
  fi
  echo "    $name: $p passed, $f failed" >&2
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
suite cargo-test cargo_counts cargo test --workspace --locked --no-fail-fast

if [ ${#failed_steps[@]} -gt 0 ]; then echo "failing: ${failed_steps[*]} (logs in $logs)" >&2; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
