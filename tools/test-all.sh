#!/usr/bin/env bash
# Runs every check and test of the project, then prints one closing line `N passed, N failed`:
# N counts forge tests, Rust tests, and each formatting/lint/alert-rules check as one item.
set -uo pipefail
cd "$(dirname "$0")/.."
# A cold build without incremental artifacts is faster and a third smaller; set it to 1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PATH="$PWD/node_modules/.bin:$PATH"
logs=$(mktemp -d)
# The tests' temporary directories (keeper and miner databases, devnet directories) go on tmpfs
# when the machine has one: what the SQLite-backed tests wait on is the fsync of every committed
# block, several keepers at a time, and durability across a power loss is not what they test (a
# process killed by a test loses nothing its commit wrote, on either file system).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  scratch=$(mktemp -d /dev/shm/tao20-test.XXXXXX)
  export TMPDIR="$scratch"
  trap 'rm -rf "$scratch"' EXIT
fi
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

# The order is set by two cores.
# - Clippy lints the workspace's crates while their tests are built: cargo runs clippy-driver in
#   place of rustc for them, as `cargo clippy` does on a check build, so the dependencies are
#   compiled once rather than also checked a second time for clippy. Its findings are the build's
#   warnings, counted as the `cargo-clippy` step (any warning fails it, as `-D warnings` would),
#   and a finding does not stop the tests.
# - What the devnet tests need is built first, at full speed, with the contracts beside it. The
#   devnet tests (real keeper processes on 100-200 ms blocks, about 1.1 cores while they run)
#   then start in their own lane, one devnet at a time: two side by side leave the keepers
#   lagging their blocks.
# - Everything else runs beside them at the lowest CPU and disk priority, on what the devnets
#   leave: the rest of the build (every other target, benches and examples included, so every
#   target is linted; `--tests`, not `--lib --bins`, which would build a test copy of targets
#   that say `test = false`), promtool, and forge's suite beside the other Rust tests.
# The binaries run as cargo would run them: from their package's directory, with
# CARGO_MANIFEST_DIR set (a second `cargo test -p ...` would resolve other features for the
# dependencies and build them again).
devnet_tests=" demo mechanisms ops keepers miners devnet "
# Lowest CPU priority, and idle-class disk I/O where ionice exists: the keepers' SQLite commits
# wait on the disk every block.
low=(nice -n 19)
if command -v ionice >/dev/null 2>&1 && ionice -c 3 true 2>/dev/null; then low=(ionice -c 3 nice -n 19); fi
export RUSTC_WORKSPACE_WRAPPER="${RUSTC_WORKSPACE_WRAPPER:-clippy-driver}"
cargo_build() { # cargo_build NAME [PREFIX...] -- CARGO-TEST-ARGS...: builds test targets, JSON to NAME.json
  local name=$1; shift
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  "${prefix[@]}" cargo test --workspace --locked --no-run --message-format=json "$@" \
    >"$logs/$name.json" 2>"$logs/$name.log"
}
binaries() { # binaries LANE JSON...: one line per test binary to run (lane, package dir, target, executable)
  python3 - "$devnet_tests" "$@" <<'PY'
import json, os, sys
devnet, lane_wanted, seen = sys.argv[1].split(), sys.argv[2], set()
for path in sys.argv[3:]:
    for line in open(path):
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") != "compiler-artifact" or not m.get("profile", {}).get("test") or not m.get("executable"):
            continue
        t = m["target"]
        if "bench" in t["kind"]:  # built so that clippy lints it; `make bench` runs it
            continue
        pkg_dir = os.path.dirname(m["manifest_path"])
        lane = "devnets" if pkg_dir.endswith("keeper/cli") and "test" in t["kind"] and t["name"] in devnet else "rest"
        if lane == lane_wanted and m["executable"] not in seen:
            seen.add(m["executable"])
            print(f"{lane}\t{pkg_dir}\t{t['name']}\t{m['executable']}")
PY
}
lint_findings() { # lint_findings JSON...: the workspace's compiler and clippy warnings, once each; non-zero if any
  python3 - "$@" <<'PY'
import json, re, sys
seen = []
for path in sys.argv[1:]:
    for line in open(path):
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") != "compiler-message" or not m.get("package_id", "").startswith("path+"):
            continue
        msg = m["message"]
        if msg["level"] not in ("warning", "error") or re.match(r"^\d+ warnings? emitted", msg["message"]):
            continue
        text = msg.get("rendered") or msg["message"]
        if text not in seen:
            seen.append(text)
for text in seen:
    print(text)
print(f"{len(seen)} finding(s)")
sys.exit(1 if seen else 0)
PY
}
run_lane() { # run_lane LANE [PREFIX...]: runs that lane's test binaries in order; non-zero if any failed
  local want=$1 rc=0; shift
  while IFS=$'\t' read -r lane dir name exe; do
    [ "$lane" = "$want" ] || continue
    echo "     Running $name ($exe)"
    (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$@" "$exe") || rc=1
  done <"$logs/test-binaries-$want.tsv"
  return $rc
}
forge_test() { # forge's suite, in the background: its log and its status in the logs directory
  ( "${low[@]}" env FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-default}" forge test >"$logs/forge-test.log" 2>&1
    echo $? >"$logs/forge-test.rc" ) &
}
promtool_checks() { # the alerting rules parse and their unit tests pass (promtool from tools/deps.sh)
  step promtool-check promtool check rules ops/prometheus/tao20-keeper.rules.yml
  step promtool-test promtool test rules ops/prometheus/tao20-keeper.rules.test.yml
}
build_failed() { # build_failed NAME: counts a failed build and shows its errors
  failed=$((failed + 1)); failed_steps+=("$1")
  { tail -n 20 "$logs/$1.log"; lint_findings "$logs/$1.json"; } | head -n 120 >&2
}

echo "==> forge-build and cargo-build-devnets" >&2
start=$SECONDS
( env FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-default}" forge build >"$logs/forge-build.log" 2>&1
  echo $? >"$logs/forge-build.rc" ) &
forge_build=$!
devnet_args=()
for t in $devnet_tests; do devnet_args+=(--test "$t"); done
cargo_build cargo-build-devnets -- "${devnet_args[@]}"
built_devnets=$?
echo "    cargo-build-devnets: $((SECONDS - start)) s" >&2
wait "$forge_build"
echo "    forge-build: $((SECONDS - start)) s" >&2
if [ "$(cat "$logs/forge-build.rc")" -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failed_steps+=("forge-build"); tail -n 60 "$logs/forge-build.log" >&2
fi

devnets=""
if [ "$built_devnets" -eq 0 ]; then
  binaries devnets "$logs/cargo-build-devnets.json" >"$logs/test-binaries-devnets.tsv"
  devnets_start=$SECONDS
  echo "==> cargo-test-devnets (beside the rest)" >&2
  ( run_lane devnets >"$logs/cargo-test-devnets.log" 2>&1
    echo "$? $SECONDS" >"$logs/cargo-test-devnets.rc" ) &
  devnets=$!
else
  build_failed cargo-build-devnets
fi

echo "==> cargo-build (every other target)" >&2
start=$SECONDS
cargo_build cargo-build "${low[@]}" -- --tests --benches --examples
built=$?
echo "    cargo-build: $((SECONDS - start)) s" >&2
step cargo-clippy lint_findings "$logs/cargo-build-devnets.json" "$logs/cargo-build.json"
promtool_checks
echo "==> forge-test and cargo-test" >&2
rest_start=$SECONDS
forge_test
forge=$!
if [ "$built" -eq 0 ]; then
  # Forge's suite (about 1.4 cores when alone) and the Rust test binaries (one at a time) side by
  # side fill both cores once the devnets are done.
  binaries rest "$logs/cargo-build.json" >"$logs/test-binaries-rest.tsv"
  rc=0
  { run_lane rest "${low[@]}" || rc=1; "${low[@]}" cargo test --workspace --locked --doc || rc=1; } \
    >"$logs/cargo-test.log" 2>&1
  tally cargo-test cargo_counts "$rc" "$rest_start"
else
  build_failed cargo-build
fi
wait "$forge"
tally forge-test forge_counts "$(cat "$logs/forge-test.rc")" "$rest_start"
if [ -n "$devnets" ]; then
  wait "$devnets"
  read -r devnets_rc devnets_end <"$logs/cargo-test-devnets.rc"
  tally cargo-test-devnets cargo_counts "$devnets_rc" "$devnets_start" "$devnets_end"
fi

if [ ${#failed_steps[@]} -gt 0 ]; then echo "failing: ${failed_steps[*]} (logs in $logs)" >&2; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
