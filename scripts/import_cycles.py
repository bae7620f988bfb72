"""Report import cycles between the modules (and between the packages) of evolve/, gates/ and bot/.

Reads every module with Python's `ast` (nothing is imported or run), resolves `import a.b`, `from a import b`
(a submodule or a name) and relative imports, including those under `if TYPE_CHECKING:`, and prints each
strongly connected component of more than one module. Exit 0 when there is none, 1 otherwise.

    python scripts/import_cycles.py            # modules and packages
    python scripts/import_cycles.py --edges    # also print every import edge (module -> module)
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOTS = ("evolve", "gates", "bot")


def module_name(path: Path, root: Path) -> str:
    """The dotted name of the module in `path` (a package's `__init__.py` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_modules(root: Path) -> dict[str, Path]:
    """Every module of the three trees, by dotted name."""
    found: dict[str, Path] = {}
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found[module_name(path, root)] = path
    return found


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that `name` is or lies inside (`a.b.func` -> `a.b`)."""
    while name:
        if name in modules:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The known modules that `module` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := resolve(alias.name, modules)) is not None:
                    targets.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                target = resolve(f"{base}.{alias.name}", modules) or resolve(base, modules)
                if target is not None:
                    targets.add(target)
    targets.discard(module)
    return targets


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one node, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def package_of(module: str, modules: dict[str, Path]) -> str:
    """The package a module belongs to (a package is its own); a loose module of a root package stands alone."""
    if modules[module].name == "__init__.py":
        return module
    parent = module.rpartition(".")[0]
    return module if not parent or parent in ROOTS else parent


def main(argv: list[str] | None = None) -> int:
    """Print the cycles; exit 1 when there is one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--edges", action="store_true", help="print every module -> module edge")
    args = parser.parse_args(argv)
    modules = collect_modules(args.root)
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    if args.edges:
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f"{name} -> {target}")
    module_cycles = strongly_connected(graph)
    package_graph: dict[str, set[str]] = {}
    for name, targets in graph.items():
        source = package_of(name, modules)
        edges = package_graph.setdefault(source, set())
        for target in targets:
            target_package = package_of(target, modules)
            # A package's __init__ importing its own modules, or a module importing its parent, is not a cycle
            # between packages.
            if (
                target_package != source
                and not source.startswith(target_package + ".")
                and not target_package.startswith(source + ".")
            ):
                edges.add(target_package)
    package_cycles = strongly_connected(package_graph)
    for label, cycles in (("module", module_cycles), ("package", package_cycles)):
        if not cycles:
            print(f"{label} cycles: none")
        for members in cycles:
            print(f"{label} cycle ({len(members)}): " + ", ".join(members))
    return 1 if module_cycles or package_cycles else 0


if __name__ == "__main__":
    sys.exit(main())
