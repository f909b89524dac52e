"""Every ``examples/*.py`` runs (in a fresh interpreter) with ``--quick --out <tmp>``, exits 0 and writes the
files it declares, each a valid PNG / JSON / HDF5; then per-example checks on what it printed and measured.

Each example runs once per session (the ``quick_run`` cache); the per-example tests read that run.
The subprocesses get ``OMP_NUM_THREADS=1`` unless it is set: on a small shared machine torch's OpenMP
threads stall one another and a one-second run takes a minute.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py")) + sorted(  # and our Keras-style programs
    f"keras_programs/{p.name}" for p in (ROOT / "examples" / "keras_programs").glob("*.py"))

PNG = b"\x89PNG\r\n\x1a\n"
HDF5 = b"\x89HDF\r\n\x1a\n"

#: The files each example writes under ``--out`` with ``--quick`` (shapes_tour only prints).
OUTPUTS: dict[str, list[str]] = {
    "shapes_tour.py": [],
    "sine_forecast.py": ["training.png", "forecast.png", "metrics.json"],
    "airline_stateful.py": ["airline.png", "metrics.json"],
    "tanks_many_to_many.py": ["tanks.png", "metrics.json"],
    "seed000_rnn_outputs.py": ["stateful.png", "metrics.json"],
    "seed000_stateful_breaths.py": ["breaths.png", "training.png", "metrics.json", "Save_iter_0.h5",
                                    "CheckPoint/ckeckpointer.ckpt", "no_reset/Save_iter_0.h5",
                                    "no_reset/CheckPoint/ckeckpointer.ckpt"],
    "seed001_stacked_lstm.py": ["stacked_training.png", "stacked_forecast.png", "stateful_training.png",
                                "comparison.png", "metrics.json"],
    "seed004_one_to_many.py": ["one_to_many.png", "metrics.json"],
    "seed004_autoencoder.py": ["reconstructions.png", "training.png", "metrics.json"],
    "seed004_gru_text.py": ["training.png", "sample.txt", "metrics.json"],
    "seed004_conv1d_long_sequences.py": ["training.png", "metrics.json"],
    "keras_programs/seq2seq_char.py": ["s2s.keras", "training.png", "metrics.json"],
    "keras_programs/text_sentiment.py": ["best.keras", "tokenizer.json", "metrics.json"],
    "keras_programs/weather_forecast.py": ["forecast.png", "checkpoint.weights.h5", "metrics.json"],
    "keras_programs/generators_stateful.py": ["metrics.json"],
    "keras_programs/addition_rnn.py": ["metrics.json"],
    "seed000_bilstm_kfold.py": ["train.csv", "test.csv", "sample_submission.csv", "submission.csv",
                                "lstm_model_fold_0.lstmkit", "lstm_model_fold_4.lstmkit", "training.png",
                                "breaths.png", "metrics.json"],
}


class QuickRun:
    def __init__(self, result: subprocess.CompletedProcess, out: Path):
        self.result, self.out = result, out
        self.stdout = result.stdout

    @property
    def metrics(self) -> dict:
        return json.loads((self.out / "metrics.json").read_text())


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run(name)``: the example's ``--quick --out <tmp>`` run (made once per session)."""
    cache: dict[str, QuickRun] = {}
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")

    def run(name: str) -> QuickRun:
        if name not in cache:
            out = tmp_path_factory.mktemp(name.removesuffix(".py").replace("/", "_"))
            result = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--quick", "--out", str(out)],
                                    cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
            cache[name] = QuickRun(result, out)
        return cache[name]

    return run


def check_file(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    if path.suffix == ".png":
        assert data[:8] == PNG, f"{path} is not a PNG"
    elif path.suffix == ".json":
        json.loads(data)  # valid JSON (raises otherwise)
    elif path.suffix == ".h5":
        assert data[:8] == HDF5, f"{path} is not an HDF5 file"
    else:
        assert data, f"{path} is empty"


def finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# -- every example ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_quick_and_writes_its_files(quick_run, name):
    run = quick_run(name)
    assert run.result.returncode == 0, f"{name} failed:\n{run.result.stdout[-3000:]}\n{run.result.stderr[-5000:]}"
    for relative in OUTPUTS.get(name, []):
        check_file(run.out / relative)
    for path in run.out.rglob("*"):  # whatever else it wrote must be valid too
        if path.suffix in (".png", ".json", ".h5"):
            check_file(path)


def test_every_example_declares_its_outputs():
    undeclared = [name for name in EXAMPLES if name not in OUTPUTS]
    assert not undeclared, f"add the files these examples write to OUTPUTS in {__file__}: {undeclared}"
    assert len(EXAMPLES) >= 11


# -- shapes_tour.py (seeds 000, 002, 003) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def tour_output(quick_run) -> str:
    run = quick_run("shapes_tour.py")
    assert run.result.returncode == 0, run.result.stderr
    return run.stdout


def line_for(output: str, label: str) -> str:
    """The tour's line for ``label`` (its first column), as 'shapes   explanation'."""
    found = [line for line in output.splitlines() if line.strip().startswith(label + " ")]
    assert len(found) == 1, f"expected one line for {label!r} in:\n{output}"
    return found[0].split("->", 1)[1].strip()


@pytest.mark.parametrize("label, shapes", [
    ("LSTM(4)", "(2, 4)"),
    ("LSTM(4, return_sequences=True)", "(2, 3, 4)"),
    ("LSTM(4, return_state=True)", "(2, 4), (2, 4), (2, 4)"),
    ("LSTM(4, return_sequences=True, return_state=True)", "(2, 3, 4), (2, 4), (2, 4)"),
    ("LSTM(20)", "(32, 20)"),
    ("LSTM(20, return_sequences=True)", "(32, 25, 20)"),
    ("Dense(10) on LSTM(20) output (32, 20)", "(32, 10)"),
    ("Dense(10) on return_sequences output (32, 25, 20)", "(32, 25, 10)"),
    ("TimeDistributed(Dense(10)) on (32, 25, 20)", "(32, 25, 10)"),
    ("params: Dense(10) on 20 features", "210"),
    ("params: TimeDistributed(Dense(10))", "210"),
    ("GRU(20, return_state=True)", "(32, 20), (32, 20)"),
    ("SimpleRNN(20, return_sequences=True)", "(32, 25, 20)"),
])
def test_tour_prints_each_shape(tour_output, label, shapes):
    rest = line_for(tour_output, label)
    assert re.match(re.escape(shapes) + r"\s{2,}\S", rest), rest  # the shapes, then an explanation


def test_tour_prints_the_errors_and_the_equivalence(tour_output):
    assert "TimeDistributed(Dense) and Dense give the same outputs" in tour_output
    assert re.search(r"TimeDistributed '\w+': input expects at least 3 dimensions .*received shape \(32, 20\)",
                     tour_output)
    assert re.search(r"LSTM '\w+': input expects shape \(batch, timesteps, features\); received a 2-D array "
                     r"of shape \(32, 25\).*x\.reshape\(32, 25, 1\)", tour_output)


def test_tour_quick_changes_nothing(quick_run):
    plain = subprocess.run([sys.executable, str(ROOT / "examples" / "shapes_tour.py")], cwd=ROOT,
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == quick_run("shapes_tour.py").stdout


# -- sine_forecast.py (seed 001's simpleLSTM) -------------------------------------------------------------
def test_sine_forecast_example_trains_forecasts_and_plots(quick_run):
    """Seed 001 end to end (examples/sine_forecast.py --quick: one epoch, 30 steps): plots and metrics, values sane."""
    run = quick_run("sine_forecast.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    for name in ("training.png", "forecast.png"):
        assert (run.out / name).read_bytes()[:8] == PNG
    assert metrics["recursive_forecast_steps"] == 30
    assert set(metrics["history"]) == {"loss", "acc", "rmse", "val_loss", "val_acc", "val_rmse"}
    assert 0 <= metrics["test_loss"] < 0.1  # scaled to [0, 1]: one epoch already beats a constant guess
    assert "Epoch 1/1" not in run.stdout and "Total params: 66,689" in run.stdout  # Keras 3: one epoch, no line
    assert re.search(r"^64/64 - \d+s - \d+m?s/step - acc: .* - val_rmse: ", run.stdout, re.M)  # verbose=2's line


# -- airline_stateful.py and tanks_many_to_many.py (seed 004) ---------------------------------------------
def test_airline_stateful_example_reports_rmse_in_passengers(quick_run):
    """Seed 004's tutorial (examples/airline_stateful.py --quick): RMSE in original units, plot written."""
    run = quick_run("airline_stateful.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert (run.out / "airline.png").read_bytes()[:8] == PNG
    # 144 months: 96 train / 48 test, look_back 3 -> 93 and 45 pairs
    assert (metrics["train_samples"], metrics["test_samples"], metrics["look_back"]) == (93, 45, 3)
    assert metrics["persistence_test_rmse"] == pytest.approx(48.87, abs=0.01)  # fixed by the data alone
    assert 5 < metrics["test_rmse"] < 400 and 5 < metrics["train_rmse"] < 300  # passengers, not scaled units
    assert "Test Score:" in run.stdout


def test_tanks_example_forecasts_three_ways_that_agree(quick_run):
    """Seed 004's stateful many-to-many: the seed's loop, forecast.stateful and streams give the same numbers."""
    run = quick_run("tanks_many_to_many.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert (run.out / "tanks.png").read_bytes()[:8] == PNG
    assert metrics["max_abs_difference"]["carried_vs_seed_loop"] < 1e-5
    assert metrics["max_abs_difference"]["streams_vs_seed_loop"] < 1e-5
    assert metrics["future_steps"] == 6 and metrics["forecast_rmse"] > 0


# -- seed000_rnn_outputs.py -------------------------------------------------------------------------------
def test_seed000_outputs_prints_the_posts_shapes_and_carries_state(quick_run):
    run = quick_run("seed000_rnn_outputs.py")
    assert run.result.returncode == 0, run.result.stderr
    shapes = run.metrics["shapes"]
    assert shapes["LSTM(4)"] == [2, 4]
    assert shapes["LSTM(4, return_sequences=True)"] == [2, 3, 4]
    assert shapes["LSTM(4, return_state=True)"] == [[2, 4], [2, 4], [2, 4]]
    assert shapes["LSTM(4, return_sequences=True, return_state=True)"] == [[2, 3, 4], [2, 4], [2, 4]]
    assert (shapes["whole_seq_output"], shapes["final_memory_state"], shapes["final_carry_state"]) == \
        ([32, 10, 4], [32, 4], [32, 4])
    for text in ("(2, 4)\n", "(2, 3, 4)\n", "whole_seq_output: (32, 10, 4)", "final_memory_state: (32, 4)",
                 "final_carry_state: (32, 4)", "Cell State"):
        assert text in run.stdout, text
    assert run.metrics["output_equals_hidden_state"] and run.metrics["last_sequence_output_equals_hidden_state"]
    stateful = run.metrics["stateful"]
    assert stateful["carried_vs_one_call_max_abs_diff"] < 1e-6  # two calls with carried states == one call
    assert stateful["reset_vs_carried_max_abs_diff"] > 1e-3  # after reset_states() the history is gone...
    assert stateful["reset_vs_stateless_max_abs_diff"] < 1e-6  # ...as for a stateless layer


# -- seed000_stateful_breaths.py --------------------------------------------------------------------------
def test_seed000_breaths_trains_saves_h5_and_compares_resets(quick_run):
    run = quick_run("seed000_stateful_breaths.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert "Breath ID : 1" in run.stdout and "reset_states() before each breath (FIXED)" in run.stdout
    assert metrics["train_breaths"] == 4 and metrics["val_breaths"] == 1 and metrics["window_size"] == 10
    for name in ("reset_per_breath", "no_reset_as_posted"):
        assert finite(metrics[name]["val_mae"]) and 0 < metrics[name]["val_mae"] < 40  # cmH2O
        assert all(finite(v) for v in metrics[name]["losses"])
    assert 0 < metrics["val_mae_mean_baseline"] < 40
    # the saved Keras .h5 loads back to the same model
    assert metrics["reloaded_h5_val_mae"] == pytest.approx(metrics["reset_per_breath"]["val_mae"], abs=1e-4)
    assert "Save_iter_0.h5" in metrics["saved"] and "no_reset/Save_iter_0.h5" in metrics["saved"]


# -- seed000_bilstm_kfold.py -----------------------------------------------------------------------------
def test_seed000_bilstm_kfold_trains_five_folds_and_writes_a_submission(quick_run):
    run = quick_run("seed000_bilstm_kfold.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert run.stdout.count("Fold ") == 5 and "mean_absolute_percentage_error" in run.stdout
    assert metrics["features"] == 50  # the post's 52 columns less id and breath_id
    assert len(metrics["fold_val_loss"]) == 5 and all(finite(v) for v in metrics["fold_val_loss"])
    assert 0 < metrics["oof_mae_inspiration"] < 60 and 0 < metrics["baseline_rc_step_median_mae_inspiration"] < 20
    submission = (run.out / "submission.csv").read_text().splitlines()
    sample = (run.out / "sample_submission.csv").read_text().splitlines()
    assert submission[0] == "id,pressure" and len(submission) == len(sample) == 1 + 10 * 80
    assert [line.split(",")[0] for line in submission] == [line.split(",")[0] for line in sample]
    assert all(math.isfinite(float(line.split(",")[1])) for line in submission[1:])
    from lstmkit.models import load_model
    model = load_model(run.out / "lstm_model_fold_0.lstmkit")
    assert model.output_shape == (None, 80, 1)


# -- seed001_stacked_lstm.py ------------------------------------------------------------------------------
def test_seed001_stacked_and_stateful_stacked(quick_run):
    run = quick_run("seed001_stacked_lstm.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert run.stdout.count("Total params: 29,345") == 2  # the post's summary; the stateful stack is the same size
    assert "simpleLSTM_03 (LSTM)" in run.stdout and "(4, None, 32)" in run.stdout
    assert metrics["look_ahead"] == 30 and metrics["epochs"] == 1
    for name in ("stacked", "stateful_stacked"):
        assert 0 <= metrics[name]["recursive_forecast_rmse"] < 1  # scaled to [0, 1]
        assert metrics[name]["params"] == 29345
    assert 0 <= metrics["stacked"]["test_loss"] < 1 and 0 <= metrics["stacked"]["test_acc"] <= 1
    assert 0 <= metrics["stateful_stacked"]["test_loss_one_step"] < 1
    assert metrics["stateful_stacked"]["max_abs_diff_manual_vs_forecast_stateful"] < 1e-5
    assert metrics["stateful_stacked"]["batches_per_epoch"] == 20


# -- seed004_one_to_many.py -------------------------------------------------------------------------------
def test_seed004_one_to_many_two_ways(quick_run):
    run = quick_run("seed004_one_to_many.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert "RepeatVector model output: (64, 8, 2)" in run.stdout
    assert "stateful loop output: (64, 8, 2)" in run.stdout
    for name in ("repeat_vector", "stateful_loop"):
        assert finite(metrics[name]["test_mse"]) and 0 <= metrics[name]["test_mse"] < 1
    assert metrics["stateful_loop"]["max_abs_diff_vs_forecast_stateful"] < 1e-5
    assert 0 < metrics["zeros_baseline_mse"] < 1


# -- seed004_autoencoder.py -------------------------------------------------------------------------------
def test_seed004_autoencoder_beats_trivial_baselines(quick_run):
    run = quick_run("seed004_autoencoder.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert metrics["test_mse"] < metrics["baseline_own_mean_mse"]  # better than each sequence's own mean
    assert metrics["test_mse"] < metrics["baseline_train_mean_mse"]  # and than the average training sequence
    assert metrics["max_abs_diff_chained_vs_parts"] < 1e-5  # autoencoder == decoder(encoder(x))
    assert metrics["code_size"] == 8 and "codes: (256, 8)" in run.stdout


# -- seed004_gru_text.py ----------------------------------------------------------------------------------
def test_seed004_gru_text_learns_and_samples_corpus_characters(quick_run):
    run = quick_run("seed004_gru_text.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    corpus = (ROOT / "examples" / "data" / "alice_chapter1.txt").read_text(encoding="utf-8")
    assert metrics["corpus_chars"] == "".join(sorted(set(corpus)))
    assert len(metrics["sample"]) == 40 and set(metrics["sample"]) <= set(corpus)
    assert metrics["prompt"] in corpus
    assert 0 <= metrics["val_accuracy"] <= 1 and 0 <= metrics["train_accuracy"] <= 1
    assert finite(metrics["val_loss"]) and metrics["val_loss"] < metrics["unigram_val_loss"]  # beats letter frequencies
    sample_file = (run.out / "sample.txt").read_text(encoding="utf-8")
    assert sample_file.startswith(metrics["prompt"] + "|" + metrics["sample"])


def test_seed004_gru_text_compiled_accuracy_is_the_share_of_right_characters(quick_run):
    """The compiled "accuracy" metric on a (batch, steps, vocabulary) output is the per-character accuracy."""
    metrics = quick_run("seed004_gru_text.py").metrics
    assert metrics["keras_metric_val_accuracy"] == pytest.approx(metrics["val_accuracy"], abs=1e-5)
    assert all(0 <= v <= 1 for v in metrics["history"]["accuracy"] + metrics["history"]["val_accuracy"])


def test_data_readme_names_the_bundled_text():
    readme = (ROOT / "examples" / "data" / "README.md").read_text(encoding="utf-8")
    assert "alice_chapter1.txt" in readme and "public domain" in readme.lower()


# -- seed004_conv1d_long_sequences.py ---------------------------------------------------------------------
def test_seed004_conv1d_runs_as_written_then_trains(quick_run):
    run = quick_run("seed004_conv1d_long_sequences.py")
    assert run.result.returncode == 0, run.result.stderr
    metrics = run.metrics
    assert 0.5 < metrics["as_written"]["train_on_batch_loss"] < 1.0  # random labels: about ln 2
    assert any("lr" in w for w in metrics["as_written"]["lr_warning"])  # tf.keras 2's lr= accepted, with a warning
    assert metrics["lstm_timesteps"] == (100 - 10) // 2 + 1  # Conv1D(kernel_size=10, strides=2, 'valid')
    assert "conv1d (Conv1D)              (32, 46, 16)" in run.stdout
    assert 0 <= metrics["test_accuracy"] <= 1 and finite(metrics["test_loss"])
    assert len(metrics["history"]["loss"]) == metrics["epochs"] == 2


# -- examples/keras_programs (issue 15: the API patterns of public Keras programs) -------------------------
def _decreasing(losses: list) -> bool:
    return all(finite(v) for v in losses) and losses[-1] < losses[0]


def test_seq2seq_program_rebuilds_inference_models_from_the_loaded_model(quick_run):
    run = quick_run("keras_programs/seq2seq_char.py")
    assert run.result.returncode == 0, run.result.stderr
    m = run.metrics
    assert _decreasing(m["loss"]) and _decreasing(m["val_loss"])
    assert m["layers"] == ["InputLayer", "InputLayer", "LSTM", "LSTM", "Dense"]  # model.layers[2] is the encoder
    assert m["encoder_state_shapes"] == [[2, 32], [2, 32]]  # --quick: latent 32
    assert m["step_decoder_max_abs_difference"] < 1e-5  # one step at a time == the teacher-forced model
    assert 0.0 <= m["held_out_word_accuracy"] <= 1.0
    assert re.search(r"^5/5 - \d+s - \d+m?s/step - accuracy: ", run.stdout, re.M)  # verbose=2, Keras 3's line


def test_text_program_tokenizes_pads_and_learns(quick_run):
    run = quick_run("keras_programs/text_sentiment.py")
    assert run.result.returncode == 0, run.result.stderr
    m = run.metrics
    assert m["x_shape"] == [600, 30] and m["x_dtype"] == "int32"  # pad_sequences' Keras default dtype
    assert m["labels_shape"] == [600, 3] and m["topic_prediction_shape"] == [4, 3]
    assert _decreasing(m["loss"]) and _decreasing(m["topic_loss"])
    assert m["test_accuracy"] > 0.6  # sentiment words decide the label: above chance after 3 epochs
    assert m["new_review_scores"][0] > m["new_review_scores"][1]  # the positive sentence scores higher
    assert any((run.out / "logs" / "train").glob("events.out.tfevents.*"))  # TensorBoard event files


def test_weather_program_beats_persistence_with_keras_datasets(quick_run):
    run = quick_run("keras_programs/weather_forecast.py")
    assert run.result.returncode == 0, run.result.stderr
    m = run.metrics
    assert "Input shape: (64, 20, 4) Target shape: (64, 1)" in run.stdout  # dataset.take(1) as Keras
    assert m["input_shape"] == [20, 4] and _decreasing(m["loss"])
    assert m["val_mae_degC"] < m["persistence_mae_degC"]
    assert m["backup_left"] is False  # BackupAndRestore removes its folder after a finished fit
    assert re.search(r"^30/30 ━{20} \d+s \d+m?s/step - loss: \d\.\d{4} - val_loss: ", run.stdout, re.M)


def test_generator_program_trains_four_keras2_ways(quick_run):
    run = quick_run("keras_programs/generators_stateful.py")
    assert run.result.returncode == 0, run.result.stderr
    m = run.metrics
    for part in ("timeseries_generator", "python_generator", "sequence", "stateful"):
        assert _decreasing(m[part]["loss"]), part
    assert m["timeseries_generator"]["batch_shapes"] == [[32, 20, 1], [32, 1]]
    assert m["timeseries_generator"]["forecast_shape"] == [100, 1]  # 120 test points - 20 of history
    assert m["sequence"]["epochs_seen"] == 3 and m["stateful"]["prediction_shape"] == [10, 1]
    assert len(m["deprecation_warnings"]) == 3


def test_addition_program_trains_on_boolean_one_hots(quick_run):
    run = quick_run("keras_programs/addition_rnn.py")
    assert run.result.returncode == 0, run.result.stderr
    m = run.metrics
    assert m["x_dtype"] == "bool" and m["prediction_shape"] == [2, 3, 12]
    assert _decreasing(m["loss"]) and len(m["samples"]) == 3
