"""Forecast error metrics: MAE, RMSE, MAPE, sMAPE by hand, zeros, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmkit.forecast.metrics import forecast_errors, mae, mape, rmse, smape


def test_metrics_by_hand():
    y, yhat = np.array([2.0, 4.0, 5.0, 10.0]), np.array([1.0, 6.0, 5.0, 6.0])  # errors 1, 2, 0, 4
    assert mae(y, yhat) == 7 / 4
    assert rmse(y, yhat) == math.sqrt(21 / 4)
    assert mape(y, yhat) == pytest.approx(100 * (1 / 2 + 2 / 4 + 0 + 4 / 10) / 4)
    assert smape(y, yhat) == pytest.approx((200 * 1 / 3 + 200 * 2 / 10 + 0 + 200 * 4 / 16) / 4)
    assert forecast_errors(y[:, None], yhat[:, None]) == {"MAE": mae(y, yhat), "RMSE": rmse(y, yhat),
                                                          "MAPE": mape(y, yhat), "sMAPE": smape(y, yhat)}


def test_mape_and_smape_with_zeros():
    y, yhat = np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.0, 3.0])
    with pytest.warns(RuntimeWarning, match=r"mape: 2 of 3 true value\(s\) are 0 and were left out"):
        assert mape(y, yhat) == 50.0  # only the point with truth 2: |2 - 3| / 2
    assert smape(y, yhat) == pytest.approx((0 + 200 + 200 * 1 / 5) / 3)  # 0/0 -> 0, 0 vs 1 -> 200
    with pytest.warns(RuntimeWarning):
        assert math.isnan(mape([0.0, 0.0], [1.0, 2.0]))
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0


def test_metric_errors():
    with pytest.raises(ValueError, match=r"mae: `y_pred` expects the shape of `y_true` \(3,\); received shape "
                                         r"\(3, 1\)\. Reshape"):
        mae(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"rmse: `y_true` expects at least one value; received an empty array"):
        rmse([], [])


@pytest.mark.parametrize("metric", [mae, rmse, mape, smape, forecast_errors])
def test_metrics_refuse_nan_and_inf(metric):
    # issue 13 fuzz: mae([1, nan], [1, 2]) was nan and mae with an inf was inf, without a word
    with pytest.raises(ValueError, match=r"`y_true` expects finite values; received 1 NaN/inf value\(s\), the first "
                                         r"at index \(1,\)"):
        metric([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`y_pred` expects finite values; received 2 NaN/inf value\(s\), the first "
                                         r"at index \(0, 1\)"):
        metric([[1.0, 2.0], [3.0, 4.0]], [[1.0, np.inf], [np.nan, 4.0]])
