"""The import graph the layout promises (docs/architecture.md): the library imports no
Prefect, anywhere; no module imports another's private names; no import circle between the
library's modules; the flow is a thin adapter."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "cleaner"
FLOWS = ROOT / "flows"


def _modules(root: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names taken from it, line) for each import of the module's source, relative
    imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            out.append((base, [alias.name for alias in node.names], node.lineno))
    return out


LIBRARY_MODULES = _modules(LIBRARY, "cleaner")
ALL_MODULES = {**LIBRARY_MODULES, **_modules(FLOWS, "cleaner_flows")}


def test_the_library_imports_no_prefect_and_no_adapter_in_its_source():
    found = [
        f"{name}:{line} imports {module}"
        for name, path in LIBRARY_MODULES.items()
        for module, _, line in _imports(name, path)
        if module.split(".")[0] in ("prefect", "prefect_dask", "cleaner_flows", "dask", "distributed")
    ]
    assert found == []


def test_importing_every_library_module_loads_no_prefect():
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(LIBRARY_MODULES)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'cleaner_flows')))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_uses_another_modules_private_names():
    """Neither `from cleaner.io.readers import _name` nor `readers._name` after importing it."""
    found = []
    for name, path in ALL_MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}  # a name in this module bound to another of our modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in ALL_MODULES:
                        aliases[alias.asname or alias.name] = full
                    elif node.module in ALL_MODULES and node.module != name and _private(alias.name):
                        found.append(f"{name}:{node.lineno} imports {alias.name} from {node.module}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in ALL_MODULES:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != name
                and _private(node.attr)
            ):
                found.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert found == []


def test_the_library_has_no_import_circle():
    """Module-level imports only: one inside a function is there to be lazy, and runs after
    both modules are loaded."""
    graph: dict[str, set[str]] = {}
    for name, path in LIBRARY_MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        targets = set()
        for node in top:
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            else:
                base = node.module or ""
                targets.add(base)
                targets |= {f"{base}.{a.name}" for a in node.names}  # `from cleaner import x`
        graph[name] = {t for t in targets if t in LIBRARY_MODULES and t != name and t != "cleaner"}
    circles = []

    def visit(node: str, trail: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                circles.append(" -> ".join(trail[trail.index(nxt) :] + [nxt]))
            elif nxt not in done:
                visit(nxt, trail + [nxt], done)
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name], done)
    assert circles == []


def test_the_flow_is_a_thin_adapter():
    lines = (FLOWS / "clean_corpus.py").read_text(encoding="utf-8").count("\n")
    assert lines < 120


def test_the_readmes_layout_names_every_module_and_only_those():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## Layout") :]
    block = block[block.index("```") + 3 :]
    block = block[: block.index("```")]
    named = set()
    folder = None
    for line in block.splitlines():
        entry = line.split()[0] if line.strip() else ""
        if line.startswith("src/cleaner/") or line.startswith("flows/"):
            folder = entry
        elif entry.endswith("/") and line.startswith("  "):
            folder = "src/cleaner/" + entry if not folder.startswith("flows") else folder
        elif entry.endswith(".py") and folder:
            base = "flows" if folder.startswith("flows") else "src/cleaner"
            sub = line[: len(line) - len(line.lstrip())]
            named.add(f"{base}/{entry}" if len(sub) <= 2 else f"{folder.rstrip('/')}/{entry}")
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in [*LIBRARY.rglob("*.py"), *FLOWS.glob("*.py")]
        if p.name != "__main__.py" and not (p.name == "__init__.py" and p.parent != LIBRARY)
    }
    assert named == modules
