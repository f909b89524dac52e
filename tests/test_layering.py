"""Imports point one way (ARCHITECTURE.md): ops, data -> layers -> losses, metrics, optimizers, callbacks ->
trainers, saving -> models -> forecast -> cli, apps; and no file takes part in an import circle.

Checked on the source text (AST), since importing any module runs the package's __init__ and would hide
an upward import behind the ones already loaded.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lstmkit"
# ARCHITECTURE.md's order, as Keras lays out its tree. A package may import its own rank and below, never above;
# within a rank (and within a package) the file-level check below forbids any circle.
RANK = {"ops": 0, "data": 0, "distribution": 0, "mixed_precision": 0,
        "layers": 1,
        "losses": 2, "metrics": 2, "optimizers": 2, "callbacks": 2,
        "trainers": 3, "saving": 3, "utils": 3, "preprocessing": 3,
        "models": 4, "export": 4,
        "forecast": 5,
        "apps": 6, "cli": 6}


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
    upward = {pkg for pkg in imported_subpackages(path) if pkg != own and RANK[pkg] > RANK[own]}
    assert not upward, f"{path.relative_to(PACKAGE)} ({own}) imports {sorted(upward)}"


def test_the_check_sees_relative_and_absolute_imports(tmp_path):
    assert {"layers", "losses", "callbacks"} <= imported_subpackages(PACKAGE / "trainers" / "trainer.py")
    assert "data" in imported_subpackages(PACKAGE / "forecast" / "forecaster.py")


# -- file-level circles ---------------------------------------------------------------------------------------
def module_of(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


ALL_MODULES = {module_of(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(path: Path, modules: dict = ALL_MODULES) -> set[tuple[str, ...]]:
    """The lstmkit modules a file imports, anywhere in it (a lazy import inside a function counts: it still
    ties the two files together). ``from . import x`` names module ``x`` when there is one."""
    me, is_package = module_of(path), path.name == "__init__.py"
    here = list(me if is_package else me[:-1])

    def resolve(dotted: list[str]) -> tuple[str, ...] | None:
        target = tuple(dotted)
        while target and target not in modules:
            target = target[:-1]
        return target if target in modules and target != me else None

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)]
                module = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "lstmkit":
                module = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                target = resolve(module + [alias.name]) if tuple(module + [alias.name]) in modules else resolve(module)
                if target is not None:
                    found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lstmkit":
                    target = resolve(alias.name.split(".")[1:])
                    if target is not None:
                        found.add(target)
    return found


def import_circles(modules: dict) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan's algorithm, iterative)."""
    graph = {m: imported_modules(p, modules) for m, p in modules.items()}
    index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(".".join(member) or "lstmkit")
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_file_takes_part_in_an_import_circle():
    assert import_circles(ALL_MODULES) == []


def test_the_circle_check_finds_a_circle_through_a_lazy_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("from . import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (package / "c.py").write_text("from .sub.a import x\n")
    (package / "d.py").write_text("from . import c\n")
    modules = {tuple(p.relative_to(package).with_suffix("").parts): p for p in package.rglob("*.py")}
    modules = {(k[:-1] if k[-1] == "__init__" else k): p for k, p in modules.items()}
    global PACKAGE
    saved, PACKAGE = PACKAGE, package
    try:
        assert import_circles(modules) == [["c", "sub.a", "sub.b"]]
    finally:
        PACKAGE = saved
