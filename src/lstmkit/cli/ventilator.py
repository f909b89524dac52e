"""``lstmkit ventilator simulate | run``: the seed 000 pipeline from the command line.

    lstmkit ventilator simulate --out data --train 2000 --test 500   # train.csv, test.csv, sample_submission.csv
    lstmkit ventilator run --out runs/vent                            # simulate, K-fold BiLSTM, submission.csv
    lstmkit ventilator run --data data --breaths 75450 --units 768,512,384,256 --device cuda   # full size
"""

from __future__ import annotations

import argparse
from typing import Any

from . import launch


def add_parser(commands: Any) -> None:
    """Register ``ventilator`` and its two sub-commands on the top-level sub-parsers."""
    ventilator = commands.add_parser("ventilator", help="seed 000's ventilator-pressure pipeline (simulated data)")
    actions = ventilator.add_subparsers(dest="action", metavar="ACTION", required=True)

    simulate = actions.add_parser("simulate", help="write train.csv / test.csv in the competition's layout")
    simulate.add_argument("--out", default="ventilator_data", help="output folder (default ventilator_data)")
    simulate.add_argument("--train", type=int, default=75_450, help="training breaths (default: the competition's)")
    simulate.add_argument("--test", type=int, default=50_300, help="test breaths (default: the competition's)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--actuator-noise", type=float, default=0.0,
                          help="noise on the valve command, so u_in cannot be inverted by algebra")
    simulate.set_defaults(handler=_simulate)

    run = actions.add_parser("run", help="features, K-fold BiLSTM (MAE on inspiration), fold median, submission")
    run.add_argument("--data", help="a folder with train.csv and test.csv (default: simulate)")
    run.add_argument("--out", default="ventilator_run", help="output folder (default ventilator_run)")
    run.add_argument("--breaths", type=int, help="training breaths (default 3000 simulated; with --data: all)")
    run.add_argument("--test-breaths", type=int, default=500, help="simulated test breaths (default 500)")
    run.add_argument("--folds", type=int, default=5)
    run.add_argument("--epochs", type=int, default=30, help="maximum epochs per fold (default 30)")
    run.add_argument("--units", type=_units, default=(64, 32), help="units per BiLSTM layer, e.g. 768,512,384,256")
    run.add_argument("--dense", type=int, default=32)
    run.add_argument("--batch-size", type=int, default=32)
    run.add_argument("--learning-rate", type=float, default=3e-3)
    run.add_argument("--scaler", default="standard", choices=("standard", "robust", "minmax"),
                     help="feature scaler fitted on the training breaths (default standard; robust is the seed's)")
    run.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    run.add_argument("--no-snap", action="store_true", help="do not snap predictions to the 950-level grid")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--quiet", action="store_true", help="no line per fold")
    run.set_defaults(handler=_run)
    launch.add_nproc_argument(run, ["ventilator", "run"])


def _simulate(args: argparse.Namespace) -> int:
    from ..apps.ventilator import write_competition_files

    paths = write_competition_files(args.out, n_train=args.train, n_test=args.test, seed=args.seed,
                                    actuator_noise=args.actuator_noise)
    print(f"Simulated {args.train} training and {args.test} test breaths (80 steps each).\n\nWrote:")
    for path in paths.values():
        print(f"  {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from ..apps.ventilator import run

    settings = {"test_breaths": args.test_breaths, "folds": args.folds, "epochs": args.epochs, "units": args.units,
                "dense": args.dense, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                "scaler": args.scaler,
                "device": args.device, "snap": not args.no_snap, "seed": args.seed, "verbose": 0 if args.quiet else 1}
    if args.breaths is not None or args.data is None:
        settings["breaths"] = args.breaths if args.breaths is not None else 3000
    metrics = run(args.data, args.out, **settings)
    print("\nMAE on inspiration (u_out == 0), held-out breaths:")
    for name, value in metrics["mae"].items():
        if isinstance(value, (int, float)):
            print(f"  {name:<28} {value:8.4f}")
    print("\nWrote:")
    for path in metrics.get("paths", {}).values():
        print(f"  {path}")
    return 0


def _units(text: str) -> tuple[int, ...]:
    try:
        units = tuple(int(u) for u in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected units like 64,32; received {text!r}") from None
    if not units or min(units) < 1:
        raise argparse.ArgumentTypeError(f"expected positive units like 64,32; received {text!r}")
    return units
