"""Seed 000's ventilator-pressure pipeline on a faithful simulator of the competition data.

    >>> from lstmkit.apps import ventilator
    >>> train = ventilator.simulate(1000, seed=0)                 # the competition's table
    >>> ventilator.write_competition_files("data", n_train=2000, n_test=500)
    >>> metrics = ventilator.run(out_dir="runs/vent")            # simulate, train 5 folds, submission.csv

Modules: :mod:`.simulator` (the data), :mod:`.features` (the seed's feature engineering),
:mod:`.model` (the seed's stacked bidirectional LSTM), :mod:`.pipeline` (K-fold training, baselines,
submission, metrics and plots).
"""

from .features import FEATURE_COLUMNS, add_features
from .model import build_model
from .pipeline import VentilatorConfig, inspiratory_mae, predict, run
from .simulator import (PRESSURE_GRID, PRESSURE_MAX, PRESSURE_MIN, PRESSURE_STEP, draw_params, noise_floor, replay,
                        simulate, simulate_arrays, snap_to_grid, write_competition_files)

__all__ = ["simulate", "simulate_arrays", "draw_params", "write_competition_files", "snap_to_grid", "noise_floor",
           "PRESSURE_GRID", "PRESSURE_MIN", "PRESSURE_MAX", "PRESSURE_STEP", "add_features", "FEATURE_COLUMNS",
           "build_model", "run", "predict", "VentilatorConfig", "inspiratory_mae", "replay"]
