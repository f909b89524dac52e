"""``lstmkit`` on the command line: parse, validate, call the library, return an exit code.

    lstmkit train DATA.csv --target COL [--features COLS] [--id COL] [--time COL] [--lookback N] [--ensemble N]
                           [--transform auto|none|log|difference|...] [--season S] [--out DIR]
                           [--loss mse|quantile|normal|student_t] [--quantile-levels 80 95] [--combine auto|network|...]
    lstmkit train "data/*.parquet" --target COL --id COL --time COL [--stream/--no-stream]   # streamed
    lstmkit forecast MODEL_DIR DATA.csv --steps H [--level 80 95] [--out forecast.csv] [--plot forecast.png]
    lstmkit evaluate MODEL_DIR DATA.csv [--steps H] [--season S] [--baselines ets,arima] [--level 80 95]
    lstmkit summary MODEL                      # an lstmkit model (folder or file) or a Keras file
    lstmkit convert SOURCE DESTINATION         # Keras file <-> lstmkit (by the destination's suffix)
    lstmkit export MODEL OUT.onnx [--format torch] [--states]   # for onnxruntime / torch.export
    lstmkit kernels build|status               # the optional C++ loop for recurrent dropout (ops.native)
    lstmkit demo [--out DIR]                   # the bundled airline series: train, forecast, plot (default: a new temp folder)
    lstmkit ventilator simulate|run ...        # seed 000's pipeline on the simulated ventilator data

Every command is ``main([...])`` in tests. Exit codes: 0 success; 1 an error in the user's input (an
``InputError`` from the library, a missing or unreadable file: one line on stderr, ``lstmkit <command>:
error: ...``); 2 bad arguments; 70 anything else, which is a bug in lstmkit: a short line saying so, and
the traceback with ``--debug`` (or ``LSTMKIT_DEBUG=1``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Sequence

from . import export, kernels, launch, ventilator
from .model_files import load_any_model

from .._validation import InputError

# What the user can fix: lstmkit's input errors, and the environment's (missing files, permissions, full disks).
USER_ERRORS = (InputError, OSError)
BUG = 70  # sysexits' EX_SOFTWARE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 success, 1 bad input, 2 bad arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its message already
        return int(exit_.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    debug = bool(getattr(args, "debug", False)) or os.environ.get("LSTMKIT_DEBUG", "") not in ("", "0")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning(args.command)
            return int(args.handler(args) or 0)
    except USER_ERRORS as error:
        if debug:
            traceback.print_exc()
        print(f"lstmkit {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lstmkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the one place that tells a bug from bad input
        if debug:
            traceback.print_exc()
        print(f"lstmkit {args.command}: internal error ({type(error).__name__}: {error}). This is a bug in "
              "lstmkit, not in your input" + ("." if debug else "; run again with --debug for the traceback, "
                                                                 "and please report it."), file=sys.stderr)
        return BUG


def _show_warning(command: str):
    """Warnings as one plain line each (``lstmkit train: warning: ...``), not Python's file:line form."""
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"lstmkit {command}: warning: {message}", file=sys.stderr)
    return show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstmkit", description="Keras-style LSTM forecasting from tables.")
    parser.add_argument("--debug", action="store_true", help="print the traceback of any error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a forecaster on a CSV / Parquet table")
    train.add_argument("data", nargs="+", help="CSV or Parquet file(s), one row per time step (and series); a glob "
                       "such as 'data/*.parquet', a folder of Parquet files or several files are streamed")
    train.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                       help="read the table in pieces instead of loading it (default: yes for a glob, a folder, "
                       "several files or a file over 1 GiB; rows sorted by --id, then --time, in each file)")
    train.add_argument("--target", required=True, type=_columns, help="column(s) to forecast, comma-separated")
    train.add_argument("--features", type=_columns, default=[],
                       help="other input columns, comma-separated (horizon 1: `forecast` reads their future values "
                       "from rows with empty targets; --horizon H models read past rows only)")
    train.add_argument("--past-features", type=_columns, default=[],
                       help="past covariates, comma-separated: known only up to the forecast origin, never needed "
                       "in forecast rows (horizon 1 then forecasts one step; use --horizon H for H steps)")
    train.add_argument("--static", type=_columns, default=[],
                       help="static covariates, comma-separated: one value per --id series (numbers or text)")
    train.add_argument("--id", dest="id_col", help="column naming each series (several series in one table)")
    train.add_argument("--time", dest="time_col", help="column to order rows by (numbers or dates)")
    train.add_argument("--lookback", type=int, help="steps per input window (default: two seasons, at most a third "
                       "of the shortest series)")
    train.add_argument("--season", type=int, help="steps per season (default: from the time column's frequency, "
                       "else from the data)")
    train.add_argument("--transform", choices=("auto", "none", "log", "difference", "log-difference",
                                                 "seasonal-difference", "log-seasonal-difference"),
                       help="what the model learns (default auto: chosen by rolling-origin validation)")
    train.add_argument("--ensemble", type=int, default=1, help="train N seeds and average their forecasts")
    train.add_argument("--combine", choices=("auto", "network", "seasonal-naive", "naive", "network+seasonal-naive",
                                             "network+naive"),
                       help="the point forecast (default auto: per series, the network, a baseline or their "
                       "equal-weight mean, by validation MASE)")
    train.add_argument("--horizon", type=int, default=1, help="steps predicted at once (default 1: recursive)")
    train.add_argument("--model", default="lstm:32", help="e.g. lstm:32, lstm:64,32, gru:32, bilstm:32@0.1")
    train.add_argument("--method", default="recursive", choices=("recursive", "stateful"),
                       help="recursive (default): a window model fed its forecasts; stateful: a model reading "
                            "whole series, forecasting by carrying its state (lookback = training chunk)")
    train.add_argument("--loss", default="mse", choices=("mse", "quantile", "normal", "student_t"),
                       help="mse (default: conformal intervals), or a head that predicts its own intervals: "
                       "quantile (quantile regression, median forecast), normal or student_t (likelihood)")
    train.add_argument("--quantile-levels", type=float, nargs="+",
                       help="interval levels a --loss quantile head learns (default 80 95)")
    train.add_argument("--epochs", type=int, help="maximum epochs (default 300; stateful 600)")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--patience", type=int, help="early stopping patience in epochs (default 30; stateful 100)")
    train.add_argument("--validation", type=float, default=0.2, help="held-out fraction of each series' windows")
    train.add_argument("--learning-rate", type=float, help="Adam's learning rate (default 2e-3; stateful 3e-3)")
    train.add_argument("--scaler", default="minmax", choices=("minmax", "standard", "robust"))
    train.add_argument("--scale-per-id", action=argparse.BooleanOptionalAction, default=None,
                       help="one scaler per series (default: yes when there is an --id column)")
    train.add_argument("--difference", action="store_true", help="model step-to-step changes (trends)")
    train.add_argument("--log", action="store_true", help="model the log of the targets (growth, positive data)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto, cpu or cuda")
    train.add_argument("--out", default="lstmkit_model", help="output folder (default lstmkit_model)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)
    launch.add_nproc_argument(train, ["train"])

    forecast = commands.add_parser("forecast", help="forecast every series of a table")
    forecast.add_argument("model_dir")
    forecast.add_argument("data")
    forecast.add_argument("--steps", type=int, help="steps ahead (default: with --features and horizon 1, the "
                          "future rows given; otherwise the model's horizon)")
    forecast.add_argument("--out", default="forecast.csv")
    forecast.add_argument("--plot", help="also write a PNG of the last history and the forecast")
    forecast.add_argument("--level", type=float, nargs="+", help="prediction intervals, e.g. --level 80 95 "
                          "(adds <target>-lo-80, <target>-hi-80, ...)")
    forecast.set_defaults(handler=_forecast)

    evaluate = commands.add_parser("evaluate", help="score forecasts against persistence / seasonal naive")
    evaluate.add_argument("model_dir")
    evaluate.add_argument("data")
    evaluate.add_argument("--steps", type=int, help="steps ahead to score (default: the model's horizon)")
    evaluate.add_argument("--season", type=int, help="season length for the seasonal-naive baseline and MASE "
                          "(default: the one training chose)")
    evaluate.add_argument("--baselines", help="also score statsforecast's models on the same origins: ets,arima")
    evaluate.add_argument("--level", type=float, nargs="+", help="interval levels whose coverage to report "
                          "(default 80 95)")
    evaluate.add_argument("--origins", type=int, default=5, help="forecast origins per series (default 5)")
    evaluate.add_argument("--out", help="also write the scores as JSON")
    evaluate.set_defaults(handler=_evaluate)

    summary = commands.add_parser("summary", help="print a model's layers, shapes and parameter counts")
    summary.add_argument("model", help="a folder from `lstmkit train`, an .lstmkit file, or a .keras / .h5 file")
    summary.set_defaults(handler=_summary)

    convert = commands.add_parser("convert", help="convert between Keras files and lstmkit's format")
    convert.add_argument("source", help=".keras / .h5 / .lstmkit file (or a folder from `lstmkit train`)")
    convert.add_argument("destination", help="a folder or .lstmkit file (from Keras), or .keras / .h5 (to Keras)")
    convert.set_defaults(handler=_convert)
    export.add_parser(commands)
    kernels.add_parser(commands)

    demo = commands.add_parser("demo", help="train on the bundled airline series and forecast two years")
    demo.add_argument("--out", default=None, help="output folder (default: a new folder lstmkit_demo_* in the "
                      "system's temp directory, printed at the end, so the demo never writes into the "
                      "current directory or a checkout)")
    demo.add_argument("--epochs", type=int, default=300)
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(handler=_demo)

    ventilator.add_parser(commands)
    return parser


# -- commands ----------------------------------------------------------------------------------------------
def _train(args: argparse.Namespace) -> int:
    from ..forecast.forecaster import Forecaster, check_output_folder
    from ..trainers.trainer import resolve_device

    from ..forecast.streamed import choose_streaming

    check_output_folder("lstmkit train", args.out)  # before training, not after
    resolve_device(args.device)
    stream, why = choose_streaming(args.data, args.stream)
    if stream:
        return _train_streamed(args, why)
    frame = read_tables(args.data)
    forecaster = Forecaster(args.target, args.features, args.id_col, args.time_col, args.lookback, args.horizon,
                            args.model, args.scaler, args.scale_per_id, args.difference, args.log, args.method,
                            season=args.season, transform=args.transform,
                            ensemble=_positive("--ensemble", args.ensemble), past_features=args.past_features,
                            static_features=args.static, loss=args.loss,
                            quantile_levels=_levels(args.quantile_levels), combine=args.combine)
    metrics = forecaster.fit(frame, epochs=None if args.epochs is None else _positive("--epochs", args.epochs),
                             batch_size=_positive("--batch-size", args.batch_size),
                             validation=args.validation, patience=args.patience, learning_rate=args.learning_rate,
                             seed=args.seed, verbose=0 if args.quiet else 1, device=args.device)
    out = forecaster.save(args.out)
    write_json(out / "metrics.json", metrics)
    written = [out / "model.lstmkit", out / "forecaster.json", out / "metrics.json"]
    written += write_training_plots(forecaster, frame, out)
    _print_choices(metrics.get("choices"))
    _print_scores("validation (one step ahead)" if args.horizon == 1 else "validation",
                  metrics.get("validation"))
    multi = metrics.get("validation_multi_step")
    if multi:
        _print_scores(f"validation ({multi['steps']} steps ahead)", {k: v for k, v in multi.items() if k != "steps"})
    _print_intervals(metrics)
    _print_warnings(metrics.get("warnings"))
    _print_written(written)
    return 0


def _train_streamed(args: argparse.Namespace, why: str) -> int:
    from ..forecast.forecaster import Forecaster

    print(f"Streaming the table ({why}): it is read in pieces, never loaded whole.")
    forecaster = Forecaster(args.target, args.features, args.id_col, args.time_col, args.lookback, args.horizon,
                            args.model, args.scaler, args.scale_per_id, args.difference, args.log, args.method,
                            season=args.season, transform=args.transform,
                            ensemble=_positive("--ensemble", args.ensemble), loss=args.loss,
                            quantile_levels=_levels(args.quantile_levels), combine=args.combine)
    epochs = None if args.epochs is None else _positive("--epochs", args.epochs)
    metrics = forecaster.fit_files(args.data, epochs=epochs,
                                   batch_size=_positive("--batch-size", args.batch_size), validation=args.validation,
                                   patience=args.patience, learning_rate=args.learning_rate, seed=args.seed,
                                   verbose=0 if args.quiet else 1, device=args.device)
    out = forecaster.save(args.out)
    write_json(out / "metrics.json", metrics)
    _print_choices(metrics.get("choices"))
    print(f"\nstreamed {metrics['rows']} rows of {metrics['series']} series from {metrics['files']} file(s): "
          f"{metrics['train_windows']} training and {metrics['validation_windows']} validation windows, "
          f"{metrics['windows_per_second']} windows/s; scaling {metrics['scaling']}")
    _print_scores("validation (one step ahead, scaled units)" if args.horizon == 1 else "validation (scaled units)",
                  metrics.get("validation_scaled"))
    intervals = metrics.get("intervals")
    if intervals:  # a probabilistic head: its own intervals, their coverage on the held-out windows
        model_scores = (metrics.get("validation_scaled") or {}).get("model", {})
        covered = ", ".join(f"{k[len('coverage-'):]} %: {v:.2f}" for k, v in model_scores.items()
                            if k.startswith("coverage-"))
        print(f"\nintervals: {intervals['method']}" + (f" (held-out coverage {covered})" if covered else ""))
        print("(no plots: they need the table in memory, --no-stream)")
    else:
        print("\n(no plots or conformal intervals: they need the table in memory, --no-stream; or train a "
              "probabilistic head, --loss quantile|normal|student_t)")
    _print_written([out / "model.lstmkit", out / "forecaster.json", out / "metrics.json"])
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from ..forecast.forecaster import Forecaster

    forecaster = Forecaster.load(args.model_dir, compile=False)  # predicts only: no optimizer
    frame = read_table(args.data)
    table = forecaster.forecast(frame, steps=args.steps, level=_levels(args.level))
    out = Path(args.out)
    _parent_exists(out)
    table.to_csv(out, index=False)
    written = [out]
    if args.plot:
        written.append(write_forecast_plot(forecaster, frame, table, Path(args.plot)))
    print(table.head(min(len(table), 12)).to_string(index=False))
    _print_written(written)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ..forecast.forecaster import Forecaster

    forecaster = Forecaster.load(args.model_dir, compile=False)  # predicts only: no optimizer
    scores = forecaster.evaluate(read_table(args.data), steps=args.steps, season=args.season,
                                 n_origins=args.origins, baselines=args.baselines, level=_levels(args.level))
    print(scores.to_string(float_format=lambda v: f"{v:.4g}", na_rep="-"))
    _print_warnings(scores.attrs.get("warnings"))
    if args.out:
        out = Path(args.out)
        _parent_exists(out)
        write_json(out, {name: {k: v for k, v in row.items() if v == v}  # NaN (no interval) left out
                         for name, row in scores.to_dict(orient="index").items()})
        _print_written([out])
    return 0


def _summary(args: argparse.Namespace) -> int:
    load_any_model(args.model).summary()
    return 0


def _convert(args: argparse.Namespace) -> int:
    model = load_any_model(args.source)
    destination = Path(args.destination)
    if destination.suffix in (".keras", ".h5", ".lstmkit"):
        _parent_exists(destination)
        model.save(destination)
    else:
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / "model.lstmkit"
        model.save(destination)
    _print_written([destination])
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ..data import load_airline_passengers
    from ..forecast.forecaster import Forecaster

    if args.out is None:  # never into the working directory (often the repository itself)
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="lstmkit_demo_"))
    else:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    frame = load_airline_passengers()
    history_csv = out / "airline_passengers.csv"
    frame.to_csv(history_csv, index=False)
    print("Training an LSTM(32) on 12-month windows of the airline passengers series (1949-1960, monthly; "
          "log, month-to-month changes)...")
    forecaster = Forecaster("Passengers", time_col="Month", lookback=12, model="lstm:32", difference=True, log=True)
    metrics = forecaster.fit(frame, epochs=_positive("--epochs", args.epochs), patience=40, validation=0.2,
                             verbose=0 if args.quiet else 1)
    model_dir = forecaster.save(out / "model")
    write_json(model_dir / "metrics.json", metrics)
    table = forecaster.forecast(frame, steps=24)
    forecast_csv = out / "forecast.csv"
    table.to_csv(forecast_csv, index=False)
    written = [forecast_csv, write_forecast_plot(forecaster, frame, table, out / "forecast.png")]
    written += write_training_plots(forecaster, frame, model_dir)
    _print_scores("held-out last 20% (one month ahead)", metrics.get("validation"))
    print(f"\nNext 24 months: {', '.join(f'{v:.0f}' for v in table['Passengers'][:6])}, ...")
    _print_written([model_dir, *written])
    print(f"\nTry: lstmkit forecast {model_dir} {history_csv} --steps 36 --plot {out / 'forecast36.png'}")
    return 0


# -- shared helpers --------------------------------------------------------------------------------------------
def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON, atomically (a crash mid-write leaves the previous file)."""
    from ..saving.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2))


def read_tables(paths: Sequence[str]) -> Any:
    """One table from one file, or several files (or a glob, a folder) read whole and concatenated."""
    import pandas as pd

    from ..forecast.table_files import table_files

    if len(paths) == 1 and Path(paths[0]).is_file():
        return read_table(paths[0])
    return pd.concat([read_table(str(path)) for path in table_files(paths)], ignore_index=True)


def read_table(path: str) -> Any:
    """A CSV (or .tsv) or Parquet file as a DataFrame, with a clear error naming the file when it is
    missing, empty, unparsable or holds no rows."""
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {path!r}")
    suffix = file.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401 - pandas's Parquet engine
        except ImportError:
            raise InputError(f"reading {path!r} (Parquet) needs pyarrow: pip install pyarrow "
                             "(or lstmkit[parquet]), or pass a CSV") from None
        try:
            frame = pd.read_parquet(file)
        except (OSError, ValueError, TypeError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise InputError(f"could not read {path!r} as Parquet ({type(error).__name__}: {error}); "
                             "pass a Parquet file or a CSV") from None
    else:
        try:
            frame = pd.read_csv(file, sep="\t" if suffix == ".tsv" else ",")
        except pd.errors.EmptyDataError:
            raise InputError(f"{path!r} is empty: expected a CSV with a header row and one row per time "
                             "step") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise InputError(f"could not read {path!r} as CSV: {error}") from None
    if frame.empty:
        raise InputError(f"{path!r} holds no rows (only a header {list(frame.columns)[:8]}): expected one row "
                         "per time step")
    return frame


def write_training_plots(forecaster: Any, frame: Any, out: Path) -> list[Path]:
    """``learning_curves.png`` and ``validation.png`` (see ``lstmkit.forecast.panels``)."""
    from ..forecast.panels import write_training_plots as write

    return write(forecaster, frame, out)


def write_forecast_plot(forecaster: Any, frame: Any, table: Any, path: Path) -> Path:
    """The last stretch of each series (up to 3) and its forecast, as a PNG (see ``lstmkit.forecast.panels``)."""
    from ..forecast.panels import write_forecast_plot as write

    _parent_exists(path)
    return write(forecaster, frame, table, path)


def _columns(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected one or more column names, comma-separated")
    return names


def _positive(flag: str, value: int) -> int:
    if value < 1:
        raise InputError(f"{flag} expects a positive integer; received {value}")
    return value


def _parent_exists(path: Path) -> None:
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} for {str(path)!r} does not exist")


def _print_scores(title: str, scores: dict | None) -> None:
    if not scores:
        return
    print(f"\n{title}:")
    print(f"  {'':<16}{'MAE':>10}{'RMSE':>10}{'MAPE %':>10}{'sMAPE %':>10}{'MASE':>10}")
    for name, values in scores.items():
        print(f"  {name:<16}" + "".join(f"{values[k]:>10.4g}" if k in values else f"{'-':>10}"
                                        for k in ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")))


def _levels(values: Any) -> Any:
    """``--level 80 95`` (floats from argparse) -> ``[80, 95]`` (whole numbers as ints, for the column names)."""
    return None if values is None else [int(v) if float(v).is_integer() else v for v in values]


def _print_choices(made: dict | None) -> None:
    if not made:
        return
    print("\nchoices:")
    for name, record in made.items():
        print(f"  {name:<14}{str(record['value']):<26}({record['chosen_by']})")
        series = record.get("series") or {}
        for key, one in list(series.items())[:10]:  # the combination chosen per series
            print(f"    {key}: {one['choice']} (validation MASE {one['validation_mase'][one['choice']]:.3f}, "
                  f"network {one['validation_mase']['network']:.3f}, {one['origins']} origins)")
        if len(series) > 10:
            print(f"    ... {len(series) - 10} more in metrics.json")


def _print_intervals(metrics: dict) -> None:
    """The interval method, and a probabilistic head's held-out coverage."""
    record, model = metrics.get("intervals"), (metrics.get("validation") or {}).get("model", {})
    if not record:
        return
    covered = ", ".join(f"{k[len('coverage-'):]}%: {v:.2f}" for k, v in model.items() if k.startswith("coverage-"))
    print(f"\nintervals: {record['method']}" + (f" (validation coverage {covered})" if covered else ""))


def _print_warnings(notes: Sequence[str] | None) -> None:
    for note in notes or []:
        print(f"\nwarning: {note}")


def _print_written(paths: Sequence[Path]) -> None:
    print("\nWrote:")
    for path in paths:
        print(f"  {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
