#!/usr/bin/python3.11
"""Writes stdlib.json: how nix/python.nix splits Debian's Python 3.11 standard library
into store paths, and which of those paths import which.

Run it with the host's Python (the one whose files the derivations copy) after a Debian
upgrade of python3.11, and commit the result:

    /usr/bin/python3.11 examples/x/nix/python/gen-stdlib.py > examples/x/nix/python/stdlib.json

Nix reads the JSON at evaluation time (a store path's references must be known before it
is built, and a derivation can only refer to paths it takes as inputs), so the import
graph is computed here, once, rather than inside a builder.

The rules:
- One group (one store path, `python3.11-<group>`) per top-level module or package of
  /usr/lib/python3.11, minus tests, IDLE/tk, ensurepip, lib2to3, distutils and the like;
  SPLIT moves a few sub-modules into groups of their own where a package would otherwise
  sit in an import cycle (importlib.resources -> zipfile -> importlib, ...).
- Extension modules (lib-dynload/*.so) join the group that imports them (_ssl -> ssl);
  the ones nothing in Python wraps (mmap, termios, ...) are groups of their own.
- A group depends on the groups its modules import when they are imported: statements
  at module level, outside functions, `except` handlers and `if __name__ == "__main__"`
  blocks, in files that are not Windows-only.
- Store references cannot form cycles between derivations, so every strongly connected
  component left is merged into one group named after its largest member (os holds
  posixpath, ntpath and genericpath; encodings holds codecs).
- `minimal` lists the groups holding what Debian's libpython3.11-minimal ships: every
  Python environment of the example includes them, as every Debian python3.11 does.
"""

import ast
import json
import os
import subprocess
import sys

LIB = "/usr/lib/python3.11"
DYNLOAD = "lib-dynload"
EXT_SUFFIX = ".cpython-311-x86_64-linux-gnu.so"

# Not shipped in the example's environments: tests, GUI, bundled pip, deprecated build
# tooling, Debian's own hooks, easter eggs.
DROP = {
    "test", "idlelib", "tkinter", "turtledemo", "turtle", "ensurepip", "lib2to3",
    "distutils", "config-3.11-x86_64-linux-gnu", "sitecustomize", "EXTERNALLY-MANAGED",
    "LICENSE.txt", "antigravity", "this", "__hello__", "__phello__",
    "_distutils_system_mod", "__pycache__", DYNLOAD,
}
DROP_EXT = {"nis", "_ctypes_test", "_xxsubinterpreters", "_xxtestfuzz", "xxlimited", "xxlimited_35"}

# group -> paths (relative to LIB) it owns, taken from the group that would own them.
SPLIT = {
    "importlib.metadata": ["importlib/metadata"],
    "importlib.resources": ["importlib/resources", "importlib/abc.py", "importlib/readers.py", "importlib/simple.py"],
    "urllib.request": ["urllib/request.py", "urllib/robotparser.py"],
    "http.cookiejar": ["http/cookiejar.py"],
    "sysconfig": ["sysconfig.py", "_sysconfigdata__x86_64-linux-gnu.py", "_sysconfigdata__linux_x86_64-linux-gnu.py"],
}

# extension module -> group, where the name alone does not say it.
EXT_GROUP = {
    "_lsprof": "cProfile",
    "_multibytecodec": "encodings",
    "_posixshmem": "multiprocessing",
    "_curses_panel": "curses",
}


def main():
    owner = {}  # path relative to LIB -> group
    for entry in sorted(os.listdir(LIB)):
        name = entry[:-3] if entry.endswith(".py") else entry
        if entry in DROP or name in DROP:
            continue
        if entry.endswith(".py") or os.path.isdir(os.path.join(LIB, entry)):
            owner[entry] = name
    for group, paths in SPLIT.items():
        for p in paths:
            if not os.path.exists(os.path.join(LIB, p)):
                sys.exit(f"gen-stdlib: {p} does not exist in {LIB}")
            owner[p] = group

    def owning_group(rel):
        """The group owning a file: the longest owned prefix of its path."""
        parts = rel.split("/")
        for n in range(len(parts), 0, -1):
            g = owner.get("/".join(parts[:n]))
            if g is not None:
                return g
        return None

    groups = {}  # group -> {"paths": [...], "files": [...], "ext": [...]}
    for rel, g in sorted(owner.items()):
        groups.setdefault(g, {"paths": [], "files": [], "ext": []})["paths"].append(rel)
    for rel, g in owner.items():
        full = os.path.join(LIB, rel)
        if os.path.isfile(full):
            groups[g]["files"].append(rel)
            continue
        for d, dirs, files in os.walk(full):
            dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", "test", "tests"))
            for f in sorted(files):
                frel = os.path.relpath(os.path.join(d, f), LIB)
                if owning_group(frel) == g:
                    groups[g]["files"].append(frel)

    # Extension modules.
    ext_of = {}
    for f in sorted(os.listdir(os.path.join(LIB, DYNLOAD))):
        if not f.endswith(EXT_SUFFIX):
            continue
        mod = f[: -len(EXT_SUFFIX)]
        if mod in DROP_EXT or mod.startswith("_test"):
            continue
        g = EXT_GROUP.get(mod)
        if g is None and mod.startswith("_codecs_"):
            g = "encodings"
        if g is None:
            g = mod.lstrip("_") if mod.lstrip("_") in groups else mod
        groups.setdefault(g, {"paths": [], "files": [], "ext": []})["ext"].append(mod)
        ext_of[mod] = g

    def module_file(mod):
        """The file (relative to LIB) a dotted module name loads, or None."""
        base = mod.replace(".", "/")
        for cand in (base + ".py", base + "/__init__.py"):
            if os.path.isfile(os.path.join(LIB, cand)):
                return cand
        return None

    def groups_of_import(mod):
        out = set()
        parts = mod.split(".")
        for n in range(1, len(parts) + 1):
            name = ".".join(parts[:n])
            if name in ext_of:
                out.add(ext_of[name])
            rel = module_file(name)
            if rel is not None:
                g = owning_group(rel)
                if g is not None:
                    out.add(g)
        return out

    def imported(rel):
        tree = ast.parse(open(os.path.join(LIB, rel), "rb").read(), rel)
        # The package relative imports start from (for pkg/__init__.py, pkg itself).
        pkg = os.path.dirname(rel).replace("/", ".")
        names = set()

        def is_main_guard(node):
            t = getattr(node, "test", None)
            return isinstance(node, ast.If) and isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"

        def visit(node):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ExceptHandler)) or is_main_guard(child):
                    continue
                if isinstance(child, ast.Import):
                    names.update(a.name for a in child.names)
                elif isinstance(child, ast.ImportFrom):
                    if child.level == 0:
                        base = child.module or ""
                    else:
                        up = pkg.split(".") if pkg else []
                        up = up[: len(up) - (child.level - 1)]
                        base = ".".join(up + ([child.module] if child.module else []))
                    if base:
                        names.add(base)
                        names.update(f"{base}.{a.name}" for a in child.names if a.name != "*")
                visit(child)

        visit(tree)
        return names

    deps = {g: set() for g in groups}
    for g, spec in groups.items():
        for rel in spec["files"]:
            if not rel.endswith(".py") or "win" in os.path.basename(rel) or os.path.basename(rel) == "__main__.py":
                continue
            for mod in imported(rel):
                deps[g].update(groups_of_import(mod))
        deps[g].discard(g)

    # Merge strongly connected components (Tarjan, iterative).
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = 0
    for root in sorted(groups):
        if root in index:
            continue
        work = [(root, iter(sorted(deps[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(deps[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                sccs.append(sorted(comp))

    size = lambda g: sum(os.path.getsize(os.path.join(LIB, f)) for f in groups[g]["files"])
    rename = {}
    for comp in sccs:
        if len(comp) == 1:
            continue
        head = max(comp, key=lambda g: (size(g), g))
        print(f"gen-stdlib: import cycle {' '.join(comp)}: one group, {head}", file=sys.stderr)
        for g in comp:
            rename[g] = head
    merged = {}
    for g in sorted(groups):
        h = rename.get(g, g)
        m = merged.setdefault(h, {"paths": [], "files": [], "ext": [], "deps": set()})
        for k in ("paths", "files", "ext"):
            m[k].extend(groups[g][k])
        m["deps"].update(rename.get(d, d) for d in deps[g])
    for h, m in merged.items():
        m["deps"].discard(h)

    # Debian's libpython3.11-minimal.
    listed = subprocess.run(["dpkg", "-L", "libpython3.11-minimal"], capture_output=True, text=True, check=True).stdout
    minimal = set()
    for line in listed.splitlines():
        if not line.startswith(LIB + "/"):
            continue
        rel = line[len(LIB) + 1 :]
        g = owning_group(rel)
        if g is not None and os.path.isfile(line):
            minimal.add(rename.get(g, g))

    out = {
        "generatedBy": "examples/x/nix/python/gen-stdlib.py",
        "python": ".".join(map(str, sys.version_info[:3])),
        "minimal": sorted(minimal),
        "groups": {
            h: {
                "files": sorted(m["files"]),
                "ext": sorted(m["ext"]),
                "deps": sorted(m["deps"]),
            }
            for h, m in sorted(merged.items())
        },
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
