#!/usr/bin/env bash
# One entry point for the README's two commands: set up .venv (idempotent), then run a task.
#   bash scripts/dev.sh demo      # the main job: `lstmkit demo` (train, forecast, plot the airline series)
#   bash scripts/dev.sh test      # the whole test suite
#   bash scripts/dev.sh example   # the seed tutorials' shapes tour
#   bash scripts/dev.sh bench     # the benchmarks
# The constraints file pins the CPU build of torch for machines without a GPU; pass
# LSTMKIT_CONSTRAINTS= (empty) to install torch from the plain range in pyproject.toml instead.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
constraints="${LSTMKIT_CONSTRAINTS-constraints-cpu.txt}"
.venv/bin/python -m pip install --quiet ${constraints:+-c "$constraints"} -e ".[dev]"
# The optional C++ loop for recurrent dropout (~10 s once, cached per torch version); without a compiler
# lstmkit runs the same math in PyTorch, so a failed build is reported and the task goes on.
.venv/bin/lstmkit kernels build || echo "scripts/dev.sh: going on without the C++ loop (see above)" >&2
case "${1:-}" in
  demo)    shift; exec .venv/bin/lstmkit demo "$@" ;;
  example) shift; exec .venv/bin/python examples/shapes_tour.py "$@" ;;
  test)    shift; exec .venv/bin/python -m pytest -q "$@" ;;
  bench)   shift; exec .venv/bin/python benchmarks/run.py "$@" ;;
  *) echo "usage: bash scripts/dev.sh demo|test|example|bench [args]" >&2; exit 2 ;;
esac
