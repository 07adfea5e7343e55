#!/usr/bin/env python3
"""Prints the runtime code size of the TAO20 contracts and their headroom under EIP-170.

Reads `forge build --sizes --json` on stdin. Exits non-zero when a contract is missing or the core
contract has less than 1 000 bytes of headroom (the margin the project keeps for later fixes).
"""
import json
import sys

EIP170 = 24_576
EIP3860 = 49_152
CORE_HEADROOM = 1_000
# Deployment initcode is the creation code plus the ABI-encoded InitParams (about 8 KiB with 128
# fund netuids): keep room for them.
INITCODE_HEADROOM = 10_000


def main():
    sizes = json.load(sys.stdin)
    by_name = {key.split(" ")[0]: value for key, value in sizes.items()}
    for name in ("TAO20", "TAO20Settlement", "TAO20Timelock"):
        entry = by_name.get(name)
        if entry is None:
            sys.exit(f"code_size: forge reported no size for {name}")
        runtime, margin, init = entry["runtime_size"], entry["runtime_margin"], entry["init_size"]
        print(f"  {name:16} {runtime:>6} bytes of {EIP170}, headroom {margin:>6} bytes (initcode {init} of {EIP3860})")
    core = by_name["TAO20"]["runtime_margin"]
    if core < CORE_HEADROOM:
        sys.exit(f"code_size: the core has only {core} bytes of headroom under EIP-170 (keep {CORE_HEADROOM})")
    init = EIP3860 - by_name["TAO20"]["init_size"]
    if init < INITCODE_HEADROOM:
        sys.exit(f"code_size: the core's initcode has only {init} bytes of headroom under EIP-3860 (keep {INITCODE_HEADROOM})")


if __name__ == "__main__":
    main()
