#!/usr/bin/env python3
"""Looks up the keeper's runtime surface in the call, storage, runtime-API, constant and error tables
that PyPI `bittensor` generates from a newer runtime than the checked-in metadata
(`bittensor/_generated/`), for `tests/runtime_surface.rs`.

Usage: bittensor_tables.py SURFACE_JSON
Input: {"calls": [{"pallet", "call", "args": [...], "types": [...]}],
        "storage": [{"pallet", "item", "value_type" (absent for items the metadata lacks)}],
        "runtime_apis": [{"api", "method"}], "constants": [{"pallet", "name"}],
        "errors": [{"pallet", "name", "index": [pallet index, error index]}]}
        Types are identities as bittensor's codegen writes them: the last path segment of the
        registry type, else a primitive or structural name; call arguments use 'Any' for
        structural ones.
Output: JSON {"bittensor": VERSION, "tables": {kind: count}, "entries": [{"kind", "container",
        "name", "status": "present" | "absent" | "arguments_differ" | "types_differ" |
        "index_differs", bittensor's "args" and "types" for calls, "value_type" for storage,
        "index" for errors, and "ours" (the input's types or index) where those differ}]}

The tables are loaded from their files by path: importing `bittensor` itself would pull in its
whole dependency tree, which the cross-check venv does not carry (it is installed `--no-deps`).
"""
import importlib.metadata
import importlib.util
import inspect
import json
import os
import sys

EXPECTED_VERSION = "11.3.0"


def load(directory, name):
    path = os.path.join(directory, name + ".py")
    spec = importlib.util.spec_from_file_location("bittensor_generated_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_dir():
    try:
        version = importlib.metadata.version("bittensor")
    except importlib.metadata.PackageNotFoundError:
        sys.exit(f"bittensor is not installed for {sys.executable} (run tools/deps.sh)")
    if version != EXPECTED_VERSION:
        sys.exit(f"bittensor {version} is installed, the cross-check pins {EXPECTED_VERSION} "
                 "(run tools/deps.sh)")
    # find_spec locates the package without executing its __init__.
    spec = importlib.util.find_spec("bittensor")
    directory = os.path.join(os.path.dirname(spec.origin), "_generated")
    if not os.path.isdir(directory):
        sys.exit(f"{directory}: no generated tables in bittensor {version}")
    return version, directory


def holders(module):
    """The classes `module` defines (not the `Any` aliases it imports)."""
    for holder in vars(module).values():
        if inspect.isclass(holder) and holder.__module__ == module.__name__:
            yield holder


def descriptors(module, cls):
    """Every instance of `cls` (an Item or Method named tuple) held by a class of `module`."""
    for holder in holders(module):
        if holder is not cls:
            for value in vars(holder).values():
                if isinstance(value, cls):
                    yield value


def call_table(calls):
    """(pallet, call) -> (argument names, argument type identities), from the call builders
    themselves: each returns Call(module, function, params) with params in the runtime's argument
    order, and is annotated with each argument's type identity (the last path segment of its
    registry type, a primitive's name, or 'Any' for structural types)."""
    table = {}
    for holder in holders(calls):
        if holder is calls.Call:
            continue
        for attr in vars(holder).values():
            if not isinstance(attr, staticmethod):
                continue
            fn = attr.__func__
            params = inspect.signature(fn).parameters
            built = fn(*[None] * len(params))
            if isinstance(built, calls.Call):
                types = [fn.__annotations__.get(p, "?") for p in params]
                table[(built.module, built.function)] = (list(built.params), types)
    return table


def main():
    surface = json.load(open(sys.argv[1]))
    version, directory = generated_dir()
    calls = call_table(load(directory, "calls"))
    storage_module = load(directory, "storage")
    storage = {(i.container, i.name): i.value_type_ident
               for i in descriptors(storage_module, storage_module.Item)}
    apis_module = load(directory, "runtime_apis")
    apis = {(m.container, m.name) for m in descriptors(apis_module, apis_module.Method)}
    constants_module = load(directory, "constants")
    constants = {(c.container, c.name) for c in descriptors(constants_module, constants_module.Item)}
    errors = {(e.pallet, e.name): list(index) for index, e in load(directory, "errors").ERRORS.items()}

    entries = []
    for c in surface["calls"]:
        key = (c["pallet"], c["call"])
        entry = {"kind": "call", "container": key[0], "name": key[1]}
        if key not in calls:
            entry["status"] = "absent"
        else:
            entry["args"], entry["types"] = calls[key]
            if entry["args"] != c["args"]:
                entry["status"] = "arguments_differ"
            elif entry["types"] != c["types"]:
                entry["status"] = "types_differ"
                entry["ours"] = c["types"]
            else:
                entry["status"] = "present"
        entries.append(entry)
    for s in surface["storage"]:
        key = (s["pallet"], s["item"])
        entry = {"kind": "storage", "container": key[0], "name": key[1]}
        if key not in storage:
            entry["status"] = "absent"
        else:
            entry["value_type"] = storage[key]
            # Items the checked-in metadata lacks have no type of ours to compare.
            ours = s.get("value_type")
            if ours not in (None, storage[key]):
                entry["status"], entry["ours"] = "types_differ", ours
            else:
                entry["status"] = "present"
        entries.append(entry)
    for kind, items, container, name, table in [
        ("runtime_api", surface["runtime_apis"], "api", "method", apis),
        ("constant", surface["constants"], "pallet", "name", constants),
    ]:
        for i in items:
            key = (i[container], i[name])
            entries.append({"kind": kind, "container": key[0], "name": key[1],
                            "status": "present" if key in table else "absent"})
    for e in surface["errors"]:
        key = (e["pallet"], e["name"])
        entry = {"kind": "error", "container": key[0], "name": key[1]}
        if key not in errors:
            entry["status"] = "absent"
        else:
            entry["index"] = errors[key]
            if errors[key] != e["index"]:
                entry["status"], entry["ours"] = "index_differs", e["index"]
            else:
                entry["status"] = "present"
        entries.append(entry)
    json.dump({
        "bittensor": version,
        "tables": {"calls": len(calls), "storage": len(storage), "runtime_apis": len(apis),
                   "constants": len(constants), "errors": len(errors)},
        "entries": entries,
    }, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
