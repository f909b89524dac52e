"""lstmkit.apps.ventilator: the simulator, the seed's features, the model and the pipeline (tiny run)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.apps import ventilator as V
from lstmkit.apps.ventilator import simulator as S

# --- simulator -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return V.simulate(500, seed=0)


def test_schema_dtypes_and_ids(sample):
    assert list(sample.columns) == list(S.COLUMNS)
    assert {c: str(t) for c, t in sample.dtypes.items()} == S.DTYPES
    assert len(sample) == 500 * 80
    np.testing.assert_array_equal(sample["id"], np.arange(1, 500 * 80 + 1))
    np.testing.assert_array_equal(sample["breath_id"], np.repeat(np.arange(1, 501), 80))
    assert (sample.groupby("breath_id").size() == 80).all()
    more = V.simulate(3, seed=1, start_breath_id=501)
    assert more["id"].iloc[0] == 500 * 80 + 1 and more["breath_id"].iloc[0] == 501


def test_time_and_u_out(sample):
    t = sample["time_step"].to_numpy().reshape(-1, 80)
    assert (t[:, 0] == 0).all() and (np.diff(t, axis=1) >= 0.031 - 1e-9).all()
    np.testing.assert_array_equal(sample["u_out"], (sample["time_step"] > 1.0).astype(int))
    u_in = sample["u_in"]
    assert u_in.min() >= 0 and u_in.max() <= 100


def test_pressure_grid(sample):
    grid = V.PRESSURE_GRID
    assert len(grid) == 950
    assert grid[0] == -1.895744294564641 == V.PRESSURE_MIN
    np.testing.assert_allclose(np.diff(grid), 0.07030214545121005, rtol=1e-12)
    assert abs(grid[-1] - 64.820992) < 1e-6
    assert np.isin(sample["pressure"].to_numpy(), grid).all()
    snapped = V.snap_to_grid([-10.0, 5.0, 100.0, grid[17] + 0.03])
    np.testing.assert_array_equal(snapped, [grid[0], grid[np.argmin(np.abs(grid - 5.0))], grid[-1], grid[17]])
    np.testing.assert_array_equal(V.snap_to_grid(snapped), snapped)


def test_seeded_reproducibility():
    a, b, c = V.simulate(20, seed=3), V.simulate(20, seed=3), V.simulate(20, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["pressure"], c["pressure"])


def test_r_c_sets_and_mixes(sample):
    assert set(sample["R"]) <= {5, 20, 50} and set(sample["C"]) <= {10, 20, 50}
    uniform = V.simulate(900, seed=2, rc_mix="uniform").groupby("breath_id")[["R", "C"]].first()
    counts = uniform.value_counts()
    assert len(counts) == 9 and counts.min() > 60
    with pytest.raises(ValueError, match="rc_mix"):
        V.simulate(2, rc_mix="skewed")


def test_marginals_near_the_real_data(sample):
    inspiration = sample["u_out"] == 0
    assert 0.35 < inspiration.mean() < 0.41          # real 0.380
    assert 9.5 < sample["pressure"].mean() < 13.0    # real 11.22
    assert 6.5 < sample["pressure"].std() < 10.5     # real 8.11
    q1, q2, q3 = np.percentile(sample["pressure"], [25, 50, 75])
    assert 5.5 < q1 < 7.0 and 6.0 < q2 < 8.0 and 11.0 < q3 < 15.0   # real 6.33 / 7.03 / 13.64


def test_pi_controller_laws():
    # No controller and no bump: the valve stays shut during inspiration, the pressure stays at PEEP.
    off = V.simulate(30, seed=5, params={"kp": 0, "ki": 0, "bump_height": 0})
    inspiration = off["u_out"] == 0
    assert (off.loc[inspiration, "u_in"] == 0).all()
    assert off.loc[inspiration, "pressure"].between(4.5, 5.5).all()
    # Proportional only: u_in = clip(Kp (PIP - measured pressure), 0, 100) on the plateau (t <= 1 s).
    kp, pip = 2.0, 25.0
    p_only = V.simulate(30, seed=6, params={"kp": kp, "ki": 0, "bump_height": 0, "pip": pip})
    rows = p_only["u_out"] == 0
    expected = np.clip(kp * (pip - p_only.loc[rows, "pressure"]), 0, 100)
    np.testing.assert_allclose(p_only.loc[rows, "u_in"], expected, rtol=0, atol=1e-12)


def test_replay_and_noise_floor():
    arrays = V.simulate_arrays(200, seed=7)
    p = arrays["params"]
    again = V.replay(arrays["u_in"], arrays["time_step"], arrays["u_out"], p["R"], p["C"], p["gain"])
    np.testing.assert_allclose(again, arrays["pressure_clean"], rtol=0, atol=1e-9)
    inspiration = arrays["u_out"] == 0
    clean = np.clip(arrays["pressure_clean"], V.PRESSURE_MIN, V.PRESSURE_MAX)
    measured_floor = np.abs(arrays["pressure"] - clean)[inspiration].mean()
    assert abs(V.noise_floor() - 0.0431) < 0.001
    assert abs(measured_floor - V.noise_floor()) < 0.005
    quiet = V.simulate_arrays(50, seed=7, sensor_noise=0.0)
    np.testing.assert_array_equal(quiet["pressure"], V.snap_to_grid(quiet["pressure_clean"]))
    table = V.simulate(2, seed=7, clean=True)
    assert list(table.columns) == list(S.COLUMNS) + ["pressure_clean"]


def test_actuator_noise_and_argument_errors():
    base, noisy = V.simulate(10, seed=8), V.simulate(10, seed=8, actuator_noise=2.0)
    assert list(noisy.columns) == list(S.COLUMNS)
    assert not np.array_equal(base["u_in"], noisy["u_in"])
    with pytest.raises(ValueError, match="n_breaths"):
        V.simulate(0)
    with pytest.raises(ValueError, match="params"):
        V.simulate(2, params={"peep": 3})
    with pytest.raises(ValueError, match="actuator_noise"):
        V.simulate(2, actuator_noise=-1.0)


def test_write_competition_files(tmp_path):
    paths = V.write_competition_files(tmp_path, n_train=6, n_test=4, seed=1)
    train, test = pd.read_csv(paths["train"]), pd.read_csv(paths["test"])
    submission = pd.read_csv(paths["sample_submission"])
    assert list(train.columns) == list(S.COLUMNS)
    assert list(test.columns) == [c for c in S.COLUMNS if c != "pressure"]
    assert {c: str(t) for c, t in train.dtypes.items()} == S.DTYPES
    np.testing.assert_array_equal(test["id"], np.arange(6 * 80 + 1, 10 * 80 + 1))
    np.testing.assert_array_equal(test["breath_id"].unique(), np.arange(7, 11))
    np.testing.assert_array_equal(submission["id"], test["id"])
    assert list(submission.columns) == ["id", "pressure"] and (submission["pressure"] == 0).all()
    np.testing.assert_allclose(train["pressure"], V.simulate(10, seed=1)["pressure"][:480], rtol=1e-15)


# --- features --------------------------------------------------------------------------------------

def seed_add_features(df):
    """Seed 000's add_features, verbatim except for the duplicated lines."""
    df['area'] = df['time_step'] * df['u_in']
    df['area'] = df.groupby('breath_id')['area'].cumsum()
    df['u_in_cumsum'] = (df['u_in']).groupby(df['breath_id']).cumsum()
    for k in (1, 2, 3, 4):
        df[f'u_in_lag{k}'] = df.groupby('breath_id')['u_in'].shift(k)
        df[f'u_out_lag{k}'] = df.groupby('breath_id')['u_out'].shift(k)
        df[f'u_in_lag_back{k}'] = df.groupby('breath_id')['u_in'].shift(-k)
        df[f'u_out_lag_back{k}'] = df.groupby('breath_id')['u_out'].shift(-k)
    df = df.fillna(0)
    df['breath_id__u_in__max'] = df.groupby(['breath_id'])['u_in'].transform('max')
    df['breath_id__u_out__max'] = df.groupby(['breath_id'])['u_out'].transform('max')
    df['u_in_diff1'] = df['u_in'] - df['u_in_lag1']
    df['u_out_diff1'] = df['u_out'] - df['u_out_lag1']
    df['u_in_diff2'] = df['u_in'] - df['u_in_lag2']
    df['u_out_diff2'] = df['u_out'] - df['u_out_lag2']
    df['breath_id__u_in__diffmax'] = df.groupby(['breath_id'])['u_in'].transform('max') - df['u_in']
    df['breath_id__u_in__diffmean'] = df.groupby(['breath_id'])['u_in'].transform('mean') - df['u_in']
    df['u_in_diff3'] = df['u_in'] - df['u_in_lag3']
    df['u_out_diff3'] = df['u_out'] - df['u_out_lag3']
    df['u_in_diff4'] = df['u_in'] - df['u_in_lag4']
    df['u_out_diff4'] = df['u_out'] - df['u_out_lag4']
    df['cross'] = df['u_in'] * df['u_out']
    df['cross2'] = df['time_step'] * df['u_out']
    df['R'] = df['R'].astype(str)
    df['C'] = df['C'].astype(str)
    df['R__C'] = df["R"].astype(str) + '__' + df["C"].astype(str)
    df = pd.get_dummies(df)
    return df


@pytest.fixture(scope="module")
def small():
    return V.simulate(40, seed=11, rc_mix="uniform").drop(columns="pressure")


def test_features_match_the_seed(small):
    ours = V.add_features(small)
    seed = seed_add_features(small.copy())
    assert len(V.FEATURE_COLUMNS) == 50
    assert set(V.FEATURE_COLUMNS) == set(seed.columns) - {"id", "breath_id"}  # all 9 R__C combos present
    for column in V.FEATURE_COLUMNS:
        np.testing.assert_allclose(ours[column].to_numpy(dtype=float), seed[column].to_numpy(dtype=float),
                                   rtol=1e-12, atol=1e-12, err_msg=column)
    assert list(small.columns) == [c for c in S.COLUMNS if c != "pressure"]  # input not modified
    assert list(ours.columns[:len(small.columns)]) == list(small.columns)


def test_features_per_breath_lags_and_cumsums(small):
    f = V.add_features(small)
    u_in = small["u_in"].to_numpy().reshape(-1, 80)
    t = small["time_step"].to_numpy().reshape(-1, 80)
    lag1 = f["u_in_lag1"].to_numpy().reshape(-1, 80)
    lead2 = f["u_in_lag_back2"].to_numpy().reshape(-1, 80)
    assert (lag1[:, 0] == 0).all()                     # first row of every breath: filled with 0
    np.testing.assert_array_equal(lag1[:, 1:], u_in[:, :-1])
    assert (lead2[:, -2:] == 0).all()
    np.testing.assert_array_equal(lead2[:, :-2], u_in[:, 2:])
    np.testing.assert_allclose(f["u_in_cumsum"].to_numpy().reshape(-1, 80), np.cumsum(u_in, axis=1))
    np.testing.assert_allclose(f["area"].to_numpy().reshape(-1, 80), np.cumsum(t * u_in, axis=1))
    np.testing.assert_allclose(f["u_in_diff1"].to_numpy().reshape(-1, 80)[:, 0], u_in[:, 0])


def test_features_do_not_leak_across_breaths(small):
    whole = V.add_features(small)
    one = small[small["breath_id"] == 7]
    alone = V.add_features(one)
    pd.testing.assert_frame_equal(alone[V.FEATURE_COLUMNS], whole.loc[one.index, V.FEATURE_COLUMNS])
    assert alone[[c for c in V.FEATURE_COLUMNS if c.startswith("R__C_")]].sum(axis=1).eq(1).all()


# --- model -----------------------------------------------------------------------------------------

def test_build_model_shapes():
    torch.manual_seed(0)
    model = V.build_model(50, units=(8, 4), dense=6)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Bidirectional", "Bidirectional", "Dense", "Dense"]
    out = model.predict(np.zeros((3, 80, 50), dtype=np.float32), verbose=0)
    assert out.shape == (3, 80, 1)
    with pytest.raises(ValueError, match="units"):
        V.build_model(50, units=())


def test_masked_mae_with_per_step_weights():
    torch.manual_seed(0)
    model = V.build_model(5, units=(4,), dense=4, timesteps=10)
    model.compile(optimizer="adam", loss="mae")
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 10, 5), dtype=np.float32), rng.random((6, 10, 1), dtype=np.float32)
    inspiration = np.zeros((6, 10), dtype=bool)
    inspiration[:, :4] = True
    weights = (inspiration / inspiration.mean()).astype(np.float32)   # the pipeline's scaling
    loss = model.evaluate(x, y, sample_weight=weights, batch_size=6, verbose=0)
    pred = model.predict(x, verbose=0)
    manual = np.abs(pred - y)[..., 0][inspiration].mean()
    assert loss == pytest.approx(manual, rel=1e-5)
    assert V.inspiratory_mae(y[..., 0], pred[..., 0], (~inspiration).astype(int)) == pytest.approx(manual, rel=1e-6)


# --- pipeline --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ventilator_run")
    torch_threads = torch.get_num_threads()
    metrics = V.run(out_dir=out, breaths=60, test_breaths=10, folds=2, epochs=1, units=(8,), dense=8,
                    batch_size=16, seed=0, threads=1)
    assert torch.get_num_threads() == torch_threads
    return out, metrics


def test_pipeline_writes_submission_on_the_grid(tiny_run):
    out, metrics = tiny_run
    submission = pd.read_csv(out / "submission.csv")
    test = V.simulate(70, seed=0).iloc[60 * 80:]
    assert list(submission.columns) == ["id", "pressure"]
    np.testing.assert_array_equal(submission["id"], test["id"])
    assert np.isfinite(submission["pressure"]).all()
    on_grid = np.abs(V.snap_to_grid(submission["pressure"]) - submission["pressure"])
    assert on_grid.max() < 1e-9
    for name in ("holdout_breaths.png", "learning_curves.png", "fold_0.lstmkit", "fold_1.lstmkit"):
        assert (out / name).is_file()


def test_pipeline_metrics(tiny_run):
    out, metrics = tiny_run
    saved = json.loads((out / "metrics.json").read_text())
    mae = saved["mae"]
    for key in ("baseline_rc_step_median", "linear_per_rc", "linear_global", "bilstm_fold_median",
                "bilstm_fold_median_snapped", "noise_floor", "physics_nominal_gain"):
        assert np.isfinite(mae[key]) and mae[key] >= 0, key
    assert len(mae["bilstm_folds"]) == 2
    assert saved["breaths"] == {"train": 51, "holdout": 9, "test": 10}
    assert 0.02 < mae["noise_floor"] < 0.08
    assert mae["linear_per_rc"] < mae["baseline_rc_step_median"]
    assert saved["mae"] == metrics["mae"]
    scaler = json.loads((out / "preprocessing.json").read_text())["scaler"]
    assert scaler["class"] == "StandardScaler"                 # the default (the seed's RobustScaler: opt-in)


def test_pipeline_holdout_mae_counts_inspiration_only(tiny_run):
    out, metrics = tiny_run
    held = pd.read_csv(out / "holdout_predictions.csv")
    assert held["breath_id"].nunique() == 9 and len(held) == 9 * 80
    inspiration = held["u_out"] == 0
    for column, key in (("bilstm", "bilstm_fold_median"), ("bilstm_snapped", "bilstm_fold_median_snapped"),
                        ("baseline_rc_step_median", "baseline_rc_step_median"), ("linear_per_rc", "linear_per_rc")):
        manual = np.abs(held[column] - held["pressure"])[inspiration].mean()
        assert metrics["mae"][key] == pytest.approx(manual, rel=1e-9), key
    all_rows = np.abs(held["baseline_rc_step_median"] - held["pressure"]).mean()
    assert metrics["mae"]["baseline_rc_step_median"] != pytest.approx(all_rows, rel=1e-3)


def test_saved_fold_models_reproduce_the_submission(tiny_run):
    out, _ = tiny_run
    test = V.simulate(70, seed=0).iloc[60 * 80:].drop(columns="pressure")
    submission = pd.read_csv(out / "submission.csv")
    np.testing.assert_allclose(V.predict(out, test).to_numpy(), submission["pressure"], rtol=0, atol=1e-9)
    model = lstmkit.models.load_model(out / "fold_0.lstmkit")
    assert model.predict(np.zeros((2, 80, 50), dtype=np.float32), verbose=0).shape == (2, 80, 1)


def test_pipeline_reads_competition_files(tmp_path):
    from lstmkit.apps.ventilator import pipeline

    V.write_competition_files(tmp_path / "data", n_train=30, n_test=4, seed=2)
    metrics = V.run(tmp_path / "data", out_dir=tmp_path / "run", folds=2, epochs=1, units=(4,),
                    dense=0, batch_size=16, plot=False, snap=False, threads=1, scaler="robust")
    assert json.loads((tmp_path / "run" / "preprocessing.json").read_text())["scaler"]["class"] == "RobustScaler"
    assert metrics["breaths"]["train"] + metrics["breaths"]["holdout"] == 30 and not metrics["simulated"]
    first, test, simulated = pipeline.load_data(tmp_path / "data", pipeline._config(None, {"breaths": 10}))
    np.testing.assert_array_equal(first["breath_id"].unique(), np.arange(1, 11))
    assert "pressure" not in test.columns and not simulated
    assert metrics["mae"]["noise_floor"] == metrics["mae"]["noise_floor_analytic"]
    submission = pd.read_csv(tmp_path / "run" / "submission.csv")
    np.testing.assert_array_equal(submission["id"], np.arange(30 * 80 + 1, 34 * 80 + 1))
    with pytest.raises(FileNotFoundError, match="train.csv"):
        V.run(tmp_path / "nothing", out_dir=tmp_path / "run2")
    with pytest.raises(TypeError, match="unknown"):
        V.run(out_dir=tmp_path / "run3", epochz=1)
    with pytest.raises(ValueError, match="scaler.*standard.*'quantile'"):
        V.run(out_dir=tmp_path / "run4", scaler="quantile")


# --- review fixes: tables checked before training, interrupted runs, the test file's columns -------------------
def test_competition_tables_are_checked_before_training(tmp_path):
    train = V.simulate(12, seed=3)
    test = V.simulate(14, seed=3).iloc[12 * 80:].drop(columns="pressure")
    small = dict(folds=2, epochs=1, units=(4,), dense=0, batch_size=8, plot=False, threads=1)
    with pytest.raises(ValueError, match=r"the test table expects the competition's columns.*no \['id'\]"):
        V.run((train, test.drop(columns="id")), out_dir=tmp_path / "a", **small)
    short = pd.concat([train.iloc[:79], train.iloc[80:]])
    with pytest.raises(ValueError, match=r"80 rows per breath.*1 breath\(s\) otherwise: 1 \(79 rows\)"):
        V.run((short, test), out_dir=tmp_path / "b", **small)
    with pytest.raises(ValueError, match="`test_breaths` expects a positive"):
        V.run(out_dir=tmp_path / "c", test_breaths=0, **small)
    shuffled = V.run((train.sample(frac=1.0, random_state=0), test.sample(frac=1.0, random_state=1)),
                     out_dir=tmp_path / "shuffled", **small)
    ordered = V.run((train, test), out_dir=tmp_path / "ordered", **small)
    assert shuffled["mae"] == ordered["mae"]  # rows are put in breath and time order first
    a, b = (pd.read_csv(tmp_path / name / "submission.csv") for name in ("shuffled", "ordered"))
    pd.testing.assert_frame_equal(a.sort_values("id").reset_index(drop=True), b)


def test_an_interrupted_run_leaves_the_previous_run_whole(tmp_path, monkeypatch):
    from lstmkit.apps.ventilator import pipeline

    out = tmp_path / "run"
    small = dict(breaths=20, test_breaths=4, epochs=1, units=(4,), dense=0, batch_size=8, plot=False, threads=1)
    V.run(out_dir=out, folds=3, **small)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # after every fold model was written

    monkeypatch.setattr(pipeline, "snap_to_grid", crash)
    with pytest.raises(KeyboardInterrupt):
        V.run(out_dir=out, folds=2, scaler="minmax", **small)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no half-published run, no staging left
    metrics = V.run(out_dir=out, folds=2, scaler="minmax", **small)
    assert sorted(p.name for p in out.glob("fold_*")) == ["fold_0.lstmkit", "fold_1.lstmkit"]  # fold_2 removed
    assert metrics["paths"]["submission"] == str(out / "submission.csv")
    assert json.loads((out / "metrics.json").read_text())["paths"] == metrics["paths"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_clean_pressure_stays_out_of_the_test_file(tmp_path):
    V.write_competition_files(tmp_path, n_train=3, n_test=2, seed=0, clean=True)
    assert "pressure_clean" in pd.read_csv(tmp_path / "train.csv").columns
    assert list(pd.read_csv(tmp_path / "test.csv").columns) == ["id", "breath_id", "R", "C", "time_step", "u_in",
                                                                "u_out"]
