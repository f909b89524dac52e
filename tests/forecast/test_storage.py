"""A Forecaster's folder (``forecast.storage``): atomic saves, damaged files refused on load."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


def test_save_is_atomic_and_load_rejects_damaged_files(tmp_path, monkeypatch):
    import pathlib

    data = panel(n_series=1, length=40)
    f = Forecaster("sales", time_col="day", lookback=5)
    f.fit(data, epochs=1, verbose=0)
    folder = f.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    f.fit(data, epochs=2, verbose=0, seed=1)  # new weights and history

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        f.save(folder)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # both old files, no temporary left
    (folder / "forecaster.json").write_text('{"format": ')  # cut short
    with pytest.raises(ValueError, match="forecaster.json.*forecaster.json expects JSON; received text that is not JSON"):
        Forecaster.load(folder)
    (folder / "forecaster.json").write_text(before["forecaster.json"].decode().replace('"target"', '"targt"', 1))
    with pytest.raises(ValueError, match="a damaged config"):
        Forecaster.load(folder)
    file = tmp_path / "afile"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="'.*afile', an existing file"):
        f.save(file)


def test_load_without_compiling_predicts_the_same(tmp_path):
    """``compile=False`` (the CLI's forecast / evaluate) leaves the optimizers out, not the forecasts."""
    data = panel(n_series=1, length=40)
    f = Forecaster("sales", time_col="day", lookback=5)
    f.fit(data, epochs=1, verbose=0)
    folder = f.save(tmp_path / "m")
    compiled, bare = Forecaster.load(folder), Forecaster.load(folder, compile=False)
    assert compiled.models[0].compiled and not bare.models[0].compiled
    pd.testing.assert_frame_equal(bare.predict(data, steps=3), compiled.predict(data, steps=3))
