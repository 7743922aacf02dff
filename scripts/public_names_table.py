"""Print (or write into docs/architecture.md) the table of where each public name lives.

For every name in ``turnover_risk.__all__`` the import chain is followed through the source
(``ast``, nothing is guessed from runtime attributes) from the top-level ``__init__.py`` to the
module that defines it: the public subpackage a user can import it from and the file that holds
the code. ``tests/test_architecture.py`` checks that the table in docs/architecture.md is current.

Usage::

    python scripts/public_names_table.py           # print the table
    python scripts/public_names_table.py --write   # replace it in docs/architecture.md
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"
START, END = "<!-- public-names:start -->", "<!-- public-names:end -->"


def _path(module: str) -> Path:
    base = SRC.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """The top-level statements, with those of ``if TYPE_CHECKING:`` blocks (the imports of a
    lazy package, see ``turnover_risk._lazy``)."""
    out: list[ast.stmt] = []
    for node in tree.body:
        test = node.test if isinstance(node, ast.If) else None
        out += node.body if getattr(test, "id", "") == "TYPE_CHECKING" else [node]
    return out


def _top_level(module: str) -> tuple[dict[str, str], set[str], ast.Module]:
    """(imported name -> source module, names defined here, tree) of a module's top level."""
    tree = ast.parse(_path(module).read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    defined: set[str] = set()
    package = module if _path(module).name == "__init__.py" else module.rpartition(".")[0]
    for node in _statements(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*parts, source] if source else parts)
            for alias in node.names:
                imported[alias.asname or alias.name] = source
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    return imported, defined, tree


def _summary(tree: ast.Module, name: str) -> str:
    """The first paragraph of the docstring of ``name``: of its def or class (the last one with a
    docstring, so overloads are skipped), else the string literal after its assignment, else the
    docstring of the class it is an instance of."""
    text = ""
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            text = ast.get_docstring(node) or text
            continue
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            nxt = tree.body[i + 1] if i + 1 < len(tree.body) else None
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                return str(nxt.value.value).strip().split("\n\n")[0].replace("\n", " ")
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                text = _summary(tree, value.func.id)
    return text.strip().split("\n\n")[0].replace("\n", " ")


def locate(name: str) -> tuple[str, str, str]:
    """(public subpackage, defining module, summary) of a name of ``turnover_risk.__all__``."""
    module, public = "turnover_risk", None
    for _ in range(10):
        imported, defined, tree = _top_level(module)
        if name in defined:
            return public or module, module, _summary(tree, name)
        if name not in imported:
            raise LookupError(f"{name} is neither defined nor imported in {module}")
        module = imported[name]
        if public is None:
            # names from the private base modules are imported from the top level
            public = "turnover_risk" if module.split(".")[1].startswith("_") else module
    raise LookupError(f"import chain of {name} too long")


def _first_sentence(text: str) -> str:
    text = " ".join(text.split()).replace("e.g. ", "e.g.\u00a0").replace("i.e. ", "i.e.\u00a0")
    for stop in (". ", ": "):
        if stop in text:
            text = text.split(stop)[0] + ("." if stop == ". " else "")
            break
    return text.replace("|", "\\|")


def table() -> str:
    imported, _, tree = _top_level("turnover_risk")
    names = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
    )
    rows = ["| name | import from | code in | what it is |", "|---|---|---|---|"]
    for name in sorted(names, key=str.lower):
        if name == "__version__":
            public, module, what = "turnover_risk", "turnover_risk._version", "The version."
        else:
            public, module, what = locate(name)
        file = _path(module).relative_to(ROOT).as_posix()
        rows.append(f"| `{name}` | `{public}` | `{file}` | {_first_sentence(what)} |")
    return "\n".join(rows)


def write() -> bool:
    """Replace the table between the markers; return whether the file changed."""
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table()}\n{END}{tail}"
    if new != text:
        DOC.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        print("docs/architecture.md", "updated" if write() else "already current")
    else:
        print(table())
