#!/usr/bin/env python3
"""The fund's ABI as integrators and the Rust bindings see it, assembled from the forge artifacts.

`abi.py write` writes keeper/bevm/abi/*.json; `abi.py check` exits 1 when they differ.
"""
import json
import os
import sys

PARTS = {
    "TAO20": ["ITAO20.sol/ITAO20", "EventsLib.sol/EventsLib", "ErrorsLib.sol/ErrorsLib",
              "draft-IERC6093.sol/IERC20Errors", "IInheritedEvents.sol/IInheritedEvents"],
    "IStaking": ["IStaking.sol/IStaking"],
    "IAlpha": ["IAlpha.sol/IAlpha"],
    "TAO20Timelock": ["TAO20Timelock.sol/TAO20Timelock"],
}


def key(item):
    return (item["type"], item.get("name", ""), tuple(i["type"] for i in item.get("inputs", [])))


def assemble(name):
    out, seen = [], set()
    for part in PARTS[name]:
        # A source built under two compiler profiles has `.default` / `.ir` artifacts (equal ABIs).
        path = next(p for p in (f"out/{part}.json", f"out/{part}.default.json", f"out/{part}.ir.json")
                    if os.path.exists(p))
        with open(path) as f:
            for item in json.load(f)["abi"]:
                if key(item) not in seen:
                    seen.add(key(item))
                    out.append(item)
    return out


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    stale = []
    for name in PARTS:
        path = f"keeper/bevm/abi/{name}.json"
        abi = assemble(name)
        if mode == "write":
            with open(path, "w") as f:
                json.dump(abi, f, indent=1)
                f.write("\n")
            # The local chain's deployment record (integrators' example, the keeper's ABI test)
            # follows the build; a live chain's records what was deployed there.
            local = "deployments/31337.json"
            if os.path.exists(local):
                with open(local) as f:
                    record = json.load(f)
                record["abi" if name == "TAO20" else "timelockAbi"] = abi
                with open(local, "w") as f:
                    json.dump(record, f, indent=2)
                    f.write("\n")
        else:
            try:
                with open(path) as f:
                    if json.load(f) != abi:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
    if stale:
        print("stale: " + ", ".join(stale) + " (run tools/sync-abi.sh)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
