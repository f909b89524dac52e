"""Log, differencing and scaling of the targets (``forecast.transforms``), and back to levels."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


def test_difference_and_log_invert_back_to_levels():
    """A model that repeats its last input step: in each model space that is a known forecast in levels."""
    from lstmkit.layers import Input, Lambda
    from lstmkit.models import Sequential

    t = np.arange(40)
    y = 100 * 1.02 ** t * (1 + 0.1 * np.sin(t / 2))
    data = pd.DataFrame({"t": t, "y": y})
    expected = {  # the prediction for row r from rows < r
        (False, False): y[5:-1],                         # persistence
        (True, False): y[6:-1] + np.diff(y)[5:-1],       # the last change again
        (False, True): y[5:-1],                          # log then exp: persistence
        (True, True): y[6:-1] * (y[6:-1] / y[5:-2]),     # the last growth rate again
    }
    for (difference, log), want in expected.items():
        f = Forecaster("y", time_col="t", lookback=6, difference=difference, log=log,
                       transform="none" if not (difference or log) else None)
        f.fit(data, epochs=1, verbose=0)
        f.model = Sequential([Input((6, 1)), Lambda(lambda x: x[:, -1, :1])])
        np.testing.assert_allclose(f.one_step(data).y_predicted.to_numpy(), want, rtol=1e-5)
        ahead = f.forecast(data, steps=3).y.to_numpy()
        if not difference:
            np.testing.assert_allclose(ahead, y[-1], rtol=1e-5)
        elif not log:
            np.testing.assert_allclose(ahead, y[-1] + (y[-1] - y[-2]) * np.arange(1, 4), rtol=1e-5)
        else:
            np.testing.assert_allclose(ahead, y[-1] * (y[-1] / y[-2]) ** np.arange(1, 4), rtol=1e-5)
    bad = data.assign(y=data.y - 200)
    with pytest.raises(ValueError, match=r"positive targets.*rows 0, 1, 2, 3, 4 and"):
        Forecaster("y", time_col="t", lookback=6, log=True).fit(bad, epochs=1, verbose=0)


@pytest.mark.parametrize("flags", [{}, {"log": True}, {"difference": True}, {"log": True, "difference": True},
                                   {"seasonal_difference": True}, {"log": True, "seasonal_difference": True}])
@pytest.mark.parametrize("per_id", [False, True])
def test_to_units_inverts_model_rows_and_scaling(flags, per_id):
    """The model rows of the true future, scaled and handed to to_units from the anchor, give the truth."""
    from lstmkit.forecast import transforms
    from lstmkit.forecast.framing import Series
    from lstmkit.forecast.specs import ForecasterConfig

    cfg = ForecasterConfig(target=["y"], features=["y", "x"], lookback=3, season=4, scale_per_id=per_id,
                           scaler="standard", **flags)
    rng = np.random.default_rng(0)
    series = [Series(k, np.c_[50 + 10 * k + np.cumsum(rng.uniform(0.5, 2, 30)), rng.normal(size=30)], None)
              for k in range(2)]
    scaler = transforms.fit_scaler(cfg, series, [transforms.model_rows(cfg, s)[:20] for s in series])
    anchor, steps = 21, 5
    histories = [(s, anchor) for s in series]
    lag = 4 if flags.get("seasonal_difference") else 1 if flags.get("difference") else 0
    scaled = np.stack([transforms.scale(cfg, scaler, transforms.model_rows(cfg, s), s.id)
                       [anchor + 1 - lag:anchor + 1 - lag + steps, :1] for s in series])
    np.testing.assert_allclose(transforms.to_units(cfg, scaler, histories, scaled),
                               np.stack([s.values[anchor + 1:anchor + 1 + steps, :1] for s in series]), rtol=1e-10)
    rows = transforms.history_rows(cfg, scaler, series[0], anchor)
    assert rows.shape == (anchor + 1 - lag, 2)
    exogenous = transforms.scale_exogenous(cfg, scaler, series[0].values[:3, 1:], 0)
    np.testing.assert_allclose(exogenous, transforms.scale(cfg, scaler, np.c_[np.zeros(3), series[0].values[:3, 1]],
                                                           0)[:, 1:])
