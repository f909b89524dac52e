"""Imports point one way (ARCHITECTURE.md): ops, data -> layers -> models -> forecast -> cli, apps.

Checked on the source text (AST), since importing any module runs the package's __init__ and would hide
an upward import behind the ones already loaded.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lstmkit"
RANK = {"ops": 0, "data": 0, "distribution": 0, "mixed_precision": 0, "layers": 1, "models": 2, "forecast": 3,
        "utils": 3, "preprocessing": 3, "apps": 4, "cli": 5}


def imported_subpackages(path: Path) -> set[str]:
    """The lstmkit subpackages a module imports (relative or absolute imports)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts  # e.g. ("models", "training")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from ..layers import x / from . import y
                base = list(parts[:len(parts) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                names = [target] if node.module else [target + [alias.name] for alias in node.names]
            elif node.module and node.module.startswith("lstmkit."):
                names = [node.module.split(".")[1:]]
            else:
                continue
            found.update(name[0] for name in names if name and name[0] in RANK)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("lstmkit.") and
                         a.name.split(".")[1] in RANK)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] in RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path):
    own = path.relative_to(PACKAGE).parts[0]
    upward = {pkg for pkg in imported_subpackages(path) if pkg != own and RANK[pkg] >= RANK[own]}
    assert not upward, f"{path.relative_to(PACKAGE)} ({own}) imports {sorted(upward)}"


def test_the_check_sees_relative_and_absolute_imports(tmp_path):
    assert {"layers", "models"} <= imported_subpackages(PACKAGE / "models" / "training.py")
    assert "data" in imported_subpackages(PACKAGE / "forecast" / "forecaster.py")
