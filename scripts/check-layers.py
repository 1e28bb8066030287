#!/usr/bin/env python3
"""Checks ARCHITECTURE.md's "Layers" invariant against the code.

The layers are read from ARCHITECTURE.md itself (the paragraph after
"From the bottom:", layers split by ';', modules by ','), so the document
and the check cannot drift apart. Every top-level module of `src/` must be
in one layer, and no module may import (`crate::name`, outside its
`#[cfg(test)]` part) a module of its own layer or one above it.

Usage: scripts/check-layers.py [REPO]   (exit 1 on a breach, naming it)
"""

import os
import re
import sys


def layers(architecture):
    text = open(architecture, encoding="utf-8").read()
    start = text.index("From the bottom:") + len("From the bottom:")
    end = text.index(". No file imports", start)
    order = []
    for layer in text[start:end].split(";"):
        order.append(re.findall(r"`([a-z_]+)`", layer))
    return {module: rank for rank, names in enumerate(order) for module in names}


def imports(src):
    """Each top-level module's imports of other top-level modules, with
    the file and line of the first import of each."""
    found = {}
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            module = os.path.relpath(path, src).split(os.sep)[0].removesuffix(".rs")
            text = open(path, encoding="utf-8").read()
            # Unit tests may reach anywhere.
            text = text.split("#[cfg(test)]", 1)[0]
            for number, line in enumerate(text.splitlines(), 1):
                for used in re.findall(r"crate::([a-z_]+)", line):
                    if used != module:
                        found.setdefault((module, used), f"{path}:{number}")
    return found


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    rank = layers(os.path.join(repo, "ARCHITECTURE.md"))
    src = os.path.join(repo, "src")
    problems = []
    modules = {
        name.removesuffix(".rs")
        for name in os.listdir(src)
        if name.endswith(".rs") or os.path.isdir(os.path.join(src, name))
    } - {"lib", "main"}
    for module in sorted(modules - rank.keys()):
        problems.append(f"src/{module}: in no layer of ARCHITECTURE.md's \"Layers\"")
    for (module, used), where in sorted(imports(src).items()):
        if module in rank and used in rank and rank[used] >= rank[module]:
            problems.append(
                f"{where}: `{module}` imports `{used}`, which is not in a layer below it"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"ok: {len(modules)} modules in {len(set(rank.values()))} layers, no import runs up or sideways")


if __name__ == "__main__":
    main()
