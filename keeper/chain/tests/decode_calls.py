#!/usr/bin/env python3
"""Independent decoder for the offline call-data test: reads the same runtime metadata file the
Rust code is generated from, and decodes call data with PyPI `scalecodec` (its own SCALE decoder
over the metadata's type registry), printing JSON.

Usage: decode_calls.py METADATA_FILE HEX [HEX ...]
Output: a JSON list, one {"pallet": ..., "call": ..., "args": {...}} per input.

scalecodec does not parse metadata V16 as a whole, so this reads the portable type registry (the
first field of every V14+ metadata) and decodes against the runtime's `RuntimeCall` enum type, which
is independent of the metadata version.
"""
import json
import sys

from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset


def main():
    path, hexes = sys.argv[1], sys.argv[2:]
    raw = open(path, "rb").read()
    if raw[:4] != b"meta" or raw[4] < 14:
        sys.exit(f"{path}: not runtime metadata v14+ (magic {raw[:5]!r})")
    rc = RuntimeConfigurationObject()
    core = load_type_registry_preset("core")
    # Decode the outer call as a plain enum of the registry, not scalecodec's metadata-bound Call.
    core["types"].pop("*::RuntimeCall", None)
    rc.update_type_registry(core)
    registry = rc.create_scale_object("PortableRegistry", data=ScaleBytes(raw[5:]))
    registry.decode(check_remaining=False)
    rc.update_from_scale_info_types(registry.value_object["types"].value_object, prefix="scale_info")
    call_type = None
    for t in registry.value["types"]:
        if t["type"]["path"][-1:] == ["RuntimeCall"]:
            call_type = t["id"]
    if call_type is None:
        sys.exit("no RuntimeCall type in the registry")
    out = []
    for h in hexes:
        obj = rc.create_scale_object(f"scale_info::{call_type}", data=ScaleBytes(bytes.fromhex(h)))
        value = obj.decode(check_remaining=True)
        ((pallet, inner),) = value.items()
        if isinstance(inner, str):
            call, args = inner, {}
        else:
            ((call, args),) = inner.items()
        out.append({"pallet": pallet, "call": call, "args": args})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
