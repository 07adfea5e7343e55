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

tally() { # tally NAME COUNTER RC START [END]: adds up a finished suite's counts from its log
  local name=$1 counter=$2 rc=$3 start=$4 end=${5:-$SECONDS}
  read -r p f < <("$counter" "$logs/$name.log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    [ "$f" -eq 0 ] && failed=$((failed + 1)) # a build failure counts as one failure
    grep -E 'FAIL|panicked|error(\[|:)|failed' "$logs/$name.log" | head -n 80 >&2
  fi
  echo "    $name: $p passed, $f failed in $((end - start)) s" >&2
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

# The order is set by two cores. Every Rust test binary is built first, at full speed
# (`cargo test --no-run`). Then the devnet tests (real keeper processes on 100-200 ms blocks,
# about 1.1 cores while they run) start in their own lane, one devnet at a time: two side by side
# leave the keepers lagging their blocks. Everything else (clippy, promtool, forge, the other Rust
# tests) runs beside them at the lowest CPU and disk priority, on what the devnets leave. The
# binaries run as cargo would run them: from their package's directory, with CARGO_MANIFEST_DIR
# set (a second `cargo test -p ...` would resolve other features for the dependencies and build
# them again).
devnet_tests=" demo mechanisms ops keepers miners devnet "
# Lowest CPU priority, and idle-class disk I/O where ionice exists: the keepers' SQLite commits
# wait on the disk every block.
low=(nice -n 19)
if command -v ionice >/dev/null 2>&1 && ionice -c 3 true 2>/dev/null; then low=(ionice -c 3 nice -n 19); fi
run_lane() { # run_lane LANE [PREFIX...]: runs that lane's test binaries in order; non-zero if any failed
  local want=$1 rc=0; shift
  while IFS=$'\t' read -r lane dir name exe; do
    [ "$lane" = "$want" ] || continue
    echo "     Running $name ($exe)"
    (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$@" "$exe") || rc=1
  done <"$logs/test-binaries.tsv"
  return $rc
}
checks() { # everything but the Rust tests, at low priority
  # One pass over every target. Library and binary code may not unwrap or panic on input; test
  # code may (clippy.toml allows it in unit tests, each test, bench and example crate says so at
  # its top). Two passes with different lint flags checked every workspace crate twice.
  step cargo-clippy "${low[@]}" cargo clippy --workspace --all-targets --locked -- -D warnings
  # The alerting rules parse and their unit tests pass (promtool comes from tools/deps.sh).
  step promtool-check promtool check rules ops/prometheus/tao20-keeper.rules.yml
  step promtool-test promtool test rules ops/prometheus/tao20-keeper.rules.test.yml
}
forge_test() { # forge's suite, in the background: its log and its status in the logs directory
  ( "${low[@]}" env FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-default}" forge test >"$logs/forge-test.log" 2>&1
    echo $? >"$logs/forge-test.rc" ) &
}

# The contracts are built before anything deploys them (the devnets and the anvil tests), during
# the Rust build: its single-crate stretches leave a core idle.
echo "==> forge-build and cargo-test-build" >&2
start=$SECONDS
( env FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-default}" forge build >"$logs/forge-build.log" 2>&1
  echo $? >"$logs/forge-build.rc" ) &
forge_build=$!
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics \
  >"$logs/cargo-test-build.json" 2>"$logs/cargo-test-build.log"
built=$?
echo "    cargo-test-build: $((SECONDS - start)) s" >&2
wait "$forge_build"
echo "    forge-build: $((SECONDS - start)) s" >&2
if [ "$(cat "$logs/forge-build.rc")" -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failed_steps+=("forge-build"); tail -n 60 "$logs/forge-build.log" >&2
fi
if [ "$built" -eq 0 ]; then
  # One line per test binary: lane, package directory, target, executable.
  python3 - "$devnet_tests" "$logs/cargo-test-build.json" >"$logs/test-binaries.tsv" <<'PY'
import json, os, sys
devnet = sys.argv[1].split()
for line in open(sys.argv[2]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("profile", {}).get("test") or not m.get("executable"):
        continue
    t = m["target"]
    pkg_dir = os.path.dirname(m["manifest_path"])
    lane = "devnets" if pkg_dir.endswith("keeper/cli") and "test" in t["kind"] and t["name"] in devnet else "rest"
    print(f"{lane}\t{pkg_dir}\t{t['name']}\t{m['executable']}")
PY
  devnets_start=$SECONDS
  echo "==> cargo-test-devnets (beside the rest)" >&2
  ( run_lane devnets >"$logs/cargo-test-devnets.log" 2>&1
    echo "$? $SECONDS" >"$logs/cargo-test-devnets.rc" ) &
  devnets=$!
  checks
  # Forge's suite (about 1.4 cores when alone) and the Rust test binaries (one at a time) side by
  # side fill both cores once the devnets are done.
  echo "==> forge-test and cargo-test" >&2
  rest_start=$SECONDS
  forge_test
  forge=$!
  rc=0
  { run_lane rest "${low[@]}" || rc=1; "${low[@]}" cargo test --workspace --locked --doc || rc=1; } \
    >"$logs/cargo-test.log" 2>&1
  tally cargo-test cargo_counts "$rc" "$rest_start"
  wait "$forge"
  tally forge-test forge_counts "$(cat "$logs/forge-test.rc")" "$rest_start"
  wait "$devnets"
  read -r devnets_rc devnets_end <"$logs/cargo-test-devnets.rc"
  tally cargo-test-devnets cargo_counts "$devnets_rc" "$devnets_start" "$devnets_end"
else
  failed=$((failed + 1)); failed_steps+=("cargo-test-build")
  grep -E 'error(\[|:)' -A 12 "$logs/cargo-test-build.log" | head -n 80 >&2
  checks
  forge_start=$SECONDS
  forge_test
  wait "$!"
  tally forge-test forge_counts "$(cat "$logs/forge-test.rc")" "$forge_start"
fi

if [ ${#failed_steps[@]} -gt 0 ]; then echo "failing: ${failed_steps[*]} (logs in $logs)" >&2; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
