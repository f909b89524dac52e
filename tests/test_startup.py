"""``import lstmkit`` stays light: heavy optional libraries are imported where they are used (issue 19)."""

import os
import subprocess
import sys

HEAVY = ("pandas", "matplotlib", "sklearn", "scipy", "statsforecast", "onnx", "onnxruntime", "h5py",
         "torch._dynamo")  # torch.compile's tracer: 0.9-1.5 s, loaded by the first compiled call


def fresh_interpreter(code: str) -> str:
    """What ``code`` prints in a new Python process (a failure shows its stderr)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_lstmkit_does_not_import_heavy_optional_libraries():
    loaded = fresh_interpreter("import sys, lstmkit, lstmkit.forecast, lstmkit.data, lstmkit.models; "
                               f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "", f"imported at start-up: {loaded}"


def test_pandas_is_imported_at_first_use():
    assert fresh_interpreter("import sys, lstmkit; from lstmkit.data import load_airline_passengers; "
                             "assert 'pandas' not in sys.modules; frame = load_airline_passengers(); "
                             "import pandas; assert isinstance(frame, pandas.DataFrame); print(len(frame))") == "144"


def test_building_and_calling_a_model_does_not_import_torch_compile():
    """The eager path never needs torch._dynamo: only a build inside a compiled trace loads it."""
    assert fresh_interpreter("import sys, torch; from lstmkit.models import Sequential; "
                             "from lstmkit.layers import LSTM, Dense, Input; "
                             "m = Sequential([Input((5, 2)), LSTM(3), Dense(1)]); m(torch.zeros(1, 5, 2)); "
                             "print('torch._dynamo' in sys.modules)") == "False"
