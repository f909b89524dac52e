"""The README's Python snippets run as written (they are the first thing users copy)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lstmkit.ops import native

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the snippets write model files into the working directory
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    assert namespace["lstm"].last_path == ("bptt" if native.load() else "fused")  # a gradient was recorded
    assert tuple(namespace["functional"].outputs[0].shape) == (None, 80, 1)
    assert "Total params: 66,689" in capsys.readouterr().out
    assert len(namespace["history"].history["val_rmse"]) == len(namespace["history"].epoch) >= 1
    assert namespace["restored"].compiled and (tmp_path / "ckpt-01.lstmkit").exists()
    assert namespace["X"].shape == (93, 3, 1) and namespace["seqs"].x.shape == (3, 5, 1)
    assert [w.tolist() for w in namespace["windows"]] == [[0, 2, 4], [2, 4, 6], [4, 6, 8], [6, 8], [8]]
    assert namespace["ahead"].shape == (12, 1)
    assert abs(namespace["ahead"] - namespace["again"]).max() < 1e-5
    assert (namespace["table"]["prediction"] == namespace["table"]["pressure"].astype("float32")).all()
    assert namespace["per_stream"].shape == (2, 3, 1)


REPO = README.parents[0]
_NOT_SOURCE = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".venv", "build", "dist"}
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _repository_files() -> set[str]:
    """Every file of the checkout, caches and build outputs aside."""
    found = set()
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCE and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(root, f), REPO) for f in files)
    return found


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_each_readme_snippet_runs_alone_and_leaves_the_repository_as_it_was(index, tmp_path):
    """A user copies one snippet into a fresh interpreter: it must carry its own imports, and
    whatever it writes goes to the working directory (here an empty temp dir), never the checkout."""
    before = _repository_files()
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    script = tmp_path / "work" / f"readme_block{index + 1}.py"
    script.parent.mkdir()
    script.write_text(BLOCKS[index], encoding="utf-8")
    done = subprocess.run([sys.executable, script.name], cwd=script.parent, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"README python block {index + 1} failed alone:\n{done.stderr[-3000:]}"
    assert _repository_files() - before == set()
