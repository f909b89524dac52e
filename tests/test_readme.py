"""The README's Python snippets run as written (they are the first thing users copy)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the snippets write model files into the working directory
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    assert namespace["lstm"].last_path == "fused"
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
