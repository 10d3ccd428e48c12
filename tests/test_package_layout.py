"""Package ``__init__`` files only re-export: a reader finds code in modules named for it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "knightvision"
ALLOWED_NAMES = {"__all__", "__version__"}


def _is_reexport(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # the docstring
    return isinstance(node, ast.Assign) and all(
        isinstance(target, ast.Name) and target.id in ALLOWED_NAMES for target in node.targets
    )


@pytest.mark.parametrize(
    "init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_init_only_reexports(init: Path) -> None:
    tree = ast.parse(init.read_text(encoding="utf-8"))
    code = [f"line {node.lineno}" for node in tree.body if not _is_reexport(node)]
    assert not code, f"{init.relative_to(PACKAGE)} holds code at {code}"


def test_the_check_sees_code() -> None:
    tree = ast.parse('"""Doc."""\nfrom x import y\n__all__ = ["y"]\ndef f() -> None: ...\n')
    assert [type(node).__name__ for node in tree.body if not _is_reexport(node)] == ["FunctionDef"]
