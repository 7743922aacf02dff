"""The layout is the architecture: layers point one way, no cycles, small modules, no dangling
pointers. The import graph is read from the source with ``ast`` (imports inside functions count).

Layers, lowest first (docs/architecture.md draws them): a module may import its own layer or any
lower one, never a higher one, and the graph between subpackages has no cycle.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "turnover_risk"

LAYERS: list[set[str]] = [
    {
        "_warnings",
        "_progress",
        "_engine",
        "_legacy",
        "_lazy",
        "_version",
        "_errors",
        "_atomic",
        "_process",
        "_dist",
    },  # shared base: warnings, progress, hooks
    {"data"},  # the contract, reading, validation, calendar
    {"privacy"},  # disclosure control
    {"rates", "surveys", "panel", "datasets"},  # statistics and features (kernels)
    {"models"},  # estimator, persistence, evaluation, explanations
    {"governance", "groups", "scoring"},  # audit, drift; group flags, what-if; batch scoring
    {"engines"},  # Dask: runs the kernels' public per-partition functions
    {"report"},  # the HTML report
    {"cli"},  # the command line
    {"__init__", "__main__"},  # the public namespace
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_LINES = 500


def _unit(module: str) -> str:
    """'turnover_risk.rates._turnover' -> 'rates'; 'turnover_risk' -> '__init__'."""
    parts = module.split(".")
    assert parts[0] == "turnover_risk", module
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import of turnover_risk in a file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, target] if target else base)
            names = [a.name for a in node.names]
            if target == "turnover_risk":  # `from turnover_risk import rates` imports a package
                out += [(node.lineno, f"turnover_risk.{n}", []) for n in names if n != "*"]
            else:
                out.append((node.lineno, target, names))
    return [(line, m, n) for line, m, n in out if m.split(".")[0] == "turnover_risk"]


SOURCES = sorted(PACKAGE.rglob("*.py"))
EDGES = [
    (path, line, _unit(_module_name(path)), _unit(target), target, names)
    for path in SOURCES
    for line, target, names in _imports(path)
]


def test_every_subpackage_has_a_layer():
    units = {_unit(_module_name(p)) for p in SOURCES}
    assert units - set(LAYER) == set(), "place the new folder in LAYERS (and in the docs)"
    assert set(LAYER) - units <= {"_engine"}, "a layer names a folder that does not exist"


def test_no_lower_layer_imports_a_higher_one():
    bad = [
        f"{p.relative_to(ROOT)}:{line}: {src} (layer {LAYER[src]}) imports {tgt} "
        f"(layer {LAYER[tgt]}) via {target}"
        for p, line, src, tgt, target, _ in EDGES
        if tgt in LAYER and LAYER[tgt] > LAYER[src]
    ]
    assert bad == []


def test_subpackage_graph_has_no_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for _, _, src, tgt, _, _ in EDGES:
        if src != tgt:
            graph[src].add(tgt)
    seen: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                raise AssertionError(" -> ".join([*stack, node, nxt]))
            if nxt not in seen:
                visit(nxt, [*stack, node])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [])


def test_engines_use_only_public_names_of_the_kernels():
    bad = [
        f"{p.relative_to(ROOT)}:{line}: {target} {names}"
        for p, line, src, tgt, target, names in EDGES
        if src == "engines"
        and tgt != "engines"
        and (
            any(part.startswith("_") for part in target.split(".")[2:])
            or any(n.startswith("_") for n in names)
        )
    ]
    assert bad == []


def test_no_module_is_longer_than_the_limit():
    long = {
        str(p.relative_to(ROOT)): n
        for p in SOURCES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (limit {MAX_LINES} lines)"


def test_private_modules_carry_no_folder_prefix():
    # the folder is the prefix: rates/_common.py, not rates/_rates_common.py or _rates_common.py
    prefixed = [
        str(p.relative_to(ROOT))
        for p in SOURCES
        if re.match(r"_(rates|groups|scoring|features|surveys|models|validation|panel)_", p.name)
    ]
    assert prefixed == []


def test_every_subpackage_lists_its_public_names():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        names = [
            n
            for n in tree.body
            if isinstance(n, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in n.targets)
        ]
        assert names, f"{init.relative_to(ROOT)} has no __all__"
        assert ast.get_docstring(tree), f"{init.relative_to(ROOT)} has no docstring saying its job"


@pytest.mark.parametrize("sub", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_subpackage_all_names_exist(sub):
    import importlib

    module = importlib.import_module(f"turnover_risk.{sub}")
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


POINTERS = re.compile(r"DESIGN\.md|DOMAIN\.md|REPORT\.md|STYLE\.md|\.\./shared|\bshared/")
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".cfg", ".txt", ".yaml", ".yml", ".html", ".css"}


def test_no_file_points_outside_the_repository():
    skip = {".git", ".venv", "build", "demo-output", "node_modules"}
    files = [
        p
        for p in ROOT.rglob("*")
        if p.is_file()
        and p.suffix in TEXT_SUFFIXES | {""}
        and not skip & set(p.relative_to(ROOT).parts)
        and ".egg-info" not in str(p)
        and p != Path(__file__).resolve()
    ]
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in files
        for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if POINTERS.search(line)
    ]
    assert hits == [], "point to docs/ (architecture, sources, definitions) instead"


def test_architecture_doc_says_where_each_public_name_lives():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "public_names_table", ROOT / "scripts" / "public_names_table.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split(script.START, 1)[1].split(script.END, 1)[0].strip()
    assert block == script.table(), "run: python scripts/public_names_table.py --write"
    for name in ("sick_leave_rate", "flag_groups"):  # a newcomer finds the file from the doc
        row = next(line for line in block.splitlines() if line.startswith(f"| `{name}` |"))
        file = row.split("|")[3].strip().strip("`")
        assert (ROOT / file).is_file() and f"def {name}(" in (ROOT / file).read_text()
