"""Multi-step intervals of horizon-1 probabilistic heads by sampled paths (``forecast.sample_paths``).

A stand-in model with known parameters makes the answer exact: a random walk whose next step is
Normal(last value, sigma) has the h-step distribution Normal(last value, sigma * sqrt(h)), so the
sampled bands must widen as sqrt(h) and sit at the Normal's percentiles."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from lstmkit.forecast import probabilistic, sample_paths
from lstmkit.forecast.forecaster import ForecasterConfig

SIGMA = 0.5
FLOOR = probabilistic.SCALE_FLOOR


def inverse_softplus(y):
    return float(np.log(np.expm1(y)))


class RandomWalkHead:
    """``predict``: raw Normal parameters (location = the window's last value, scale SIGMA) per row."""

    def predict(self, x, batch_size=None, verbose=0):
        x = np.asarray(x)
        raw_scale = np.full(len(x), inverse_softplus(SIGMA - FLOOR))
        return np.stack([x[:, -1, 0], raw_scale], axis=1)


class IdentityScaler:
    def inverse_transform(self, values, columns=None, groups=None):
        return np.asarray(values)


def config(loss="normal", **kwargs):
    return ForecasterConfig(target=["y"], lookback=4, horizon=1, loss=loss, **kwargs)


def test_paths_of_a_random_walk_widen_as_the_square_root_of_the_horizon():
    cfg = config()
    x = np.full((2, 4, 1), 3.0)
    x[1] = -1.0
    histories = [(None, 0), (None, 0)]
    sampled = sample_paths.paths(cfg, IdentityScaler(), [RandomWalkHead()], histories, x, None, steps=9,
                                 n_paths=4000)
    assert sampled.shape == (2, 4000, 9, 1)
    spread = sampled.std(axis=1)[:, :, 0]  # (series, step)
    expected = SIGMA * np.sqrt(np.arange(1, 10))
    np.testing.assert_allclose(spread, np.broadcast_to(expected, spread.shape), rtol=0.06)
    np.testing.assert_allclose(sampled.mean(axis=1)[:, -1, 0], [3.0, -1.0], atol=0.1)
    lo, hi = sample_paths.bands(sampled, [80])[80]
    z = norm.ppf(0.9)
    np.testing.assert_allclose(hi[0, :, 0] - lo[0, :, 0], 2 * z * expected, rtol=0.08)


def test_paths_are_seeded_and_pooled_over_the_ensemble():
    cfg = config()
    x = np.zeros((1, 4, 1))
    one = sample_paths.paths(cfg, IdentityScaler(), [RandomWalkHead()], [(None, 0)], x, None, 3, n_paths=50)
    again = sample_paths.paths(cfg, IdentityScaler(), [RandomWalkHead()], [(None, 0)], x, None, 3, n_paths=50)
    np.testing.assert_array_equal(one, again)
    two = sample_paths.paths(cfg, IdentityScaler(), [RandomWalkHead()] * 2, [(None, 0)], x, None, 3, n_paths=50)
    assert two.shape == (1, 100, 3, 1)


@pytest.mark.parametrize("loss", ["normal", "student_t"])
def test_draws_follow_the_heads_distribution(loss):
    cfg = config(loss)
    raw = [1.5, inverse_softplus(2.0 - FLOOR)] + ([0.0] if loss == "student_t" else [])
    params = np.tile(np.array(raw), (20000, 1, 1))  # (n, n_targets, P)
    drawn = sample_paths.draw(cfg, params, np.random.default_rng(0))
    assert drawn.shape == (20000, 1)
    dist = probabilistic.distribution(loss, torch.tensor(raw, dtype=torch.float64))
    for p in (0.1, 0.5, 0.9):
        assert abs(np.mean(drawn <= float(dist.icdf(torch.tensor(p, dtype=torch.float64)))
                           if loss == "normal" else drawn <= _t_quantile(dist, p)) - p) < 0.015


def _t_quantile(dist, p):
    from scipy.stats import t

    return float(dist.loc + dist.scale * t.ppf(p, float(dist.df)))


def test_quantile_draws_invert_the_trained_quantiles_with_normal_tails():
    cfg = config("quantile", quantile_levels=[50, 80])
    raw = np.array([2.0, 0.3, 0.1, 0.5, 0.2])  # median, then lower / upper widths (softplus, running sums)
    q = probabilistic.quantiles(torch.from_numpy(raw)).numpy()  # at probabilities 0.1, 0.25, 0.5, 0.75, 0.9
    drawn = sample_paths.draw(cfg, np.tile(raw, (40000, 1, 1)), np.random.default_rng(1))[:, 0]
    probs = probabilistic.probabilities([50, 80])
    for prob, value in zip(probs, q):
        assert abs(np.mean(drawn <= value) - prob) < 0.01  # the draws' CDF passes through every quantile
    # beyond the outermost quantiles: the Normal through the median and that quantile, not a point mass
    low_scale, high_scale = (q[2] - q[0]) / norm.ppf(0.9), (q[4] - q[2]) / norm.ppf(0.9)
    # within 4 standard errors (a point mass at the outer quantiles would be 1.1 off)
    assert abs(np.quantile(drawn, 0.02) - (q[2] + low_scale * norm.ppf(0.02))) < 0.08
    assert abs(np.quantile(drawn, 0.98) - (q[2] + high_scale * norm.ppf(0.98))) < 0.08


@pytest.mark.parametrize("levels", [[80], [80, 95]])
def test_a_quantile_head_of_a_random_walk_widens_as_the_square_root_of_the_horizon(levels):
    """The exact quantiles of Normal(last, SIGMA) as a head: one trained level is enough for the paths
    to carry the right spread (a point mass at the outer quantiles would shrink every step's innovation)."""
    zs = [norm.ppf(0.5 + level / 200) for level in levels]

    class QuantileRandomWalk:
        def predict(self, x, batch_size=None, verbose=0):
            x = np.asarray(x, dtype=np.float64)
            widths = [np.full(len(x), inverse_softplus(w)) for w in np.diff([0.0] + [z * SIGMA for z in zs])]
            return np.stack([x[:, -1, 0]] + widths + widths, axis=1)

    cfg = config("quantile", quantile_levels=levels)
    sampled = sample_paths.paths(cfg, IdentityScaler(), [QuantileRandomWalk()], [(None, 0)], np.zeros((1, 4, 1)),
                                 None, steps=9, n_paths=20000)
    lo, hi = sample_paths.bands(sampled, [80])[80]
    ratio = (hi - lo)[0, :, 0] / (2 * norm.ppf(0.9) * SIGMA * np.sqrt(np.arange(1, 10)))
    assert np.all((ratio > 0.95) & (ratio < 1.1)), ratio


def test_each_series_draws_the_same_paths_whatever_is_forecast_with_it():
    class Named:
        def __init__(self, name):
            self.id = name

    a, b = (Named("a"), 7), (Named("b"), 7)
    x = np.zeros((2, 4, 1))
    x[1] = 5.0
    alone = sample_paths.paths(config(), IdentityScaler(), [RandomWalkHead()] * 2, [a], x[:1], None, 4, n_paths=50)
    both = sample_paths.paths(config(), IdentityScaler(), [RandomWalkHead()] * 2, [b, a], x[::-1], None, 4,
                              n_paths=50)
    np.testing.assert_array_equal(both[1], alone[0])
    assert not np.array_equal(both[0] - 5.0, alone[0])  # another series, other draws
    later = sample_paths.paths(config(), IdentityScaler(), [RandomWalkHead()], [(Named("a"), 8)], x[:1], None, 4,
                               n_paths=50)
    assert not np.array_equal(later[0], alone[0][:50])  # another origin, other draws


def test_enough_paths_for_the_level_and_a_clear_refusal_beyond():
    assert sample_paths.path_count("f", [80, 95], 1) == sample_paths.N_PATHS
    assert sample_paths.path_count("f", [99], 1) == 1000  # 5 paths beyond the 0.5 % percentile
    assert sample_paths.path_count("f", [99], 4) == sample_paths.N_PATHS  # pooled over 4 members
    with pytest.raises(ValueError, match=r"levels up to 99\.9 .*level=\[99\.99\].*--horizon H"):
        sample_paths.path_count("f", [99.99], 1)


class OneSeries:
    values = np.array([[10.0]])
    id = "a"


@pytest.mark.parametrize("transform", ["difference", "log", "none"])
def test_each_path_goes_back_to_units_as_one_forecast(transform):
    cfg = config()
    cfg.difference, cfg.log = transform == "difference", transform == "log"
    scaled = np.random.default_rng(0).normal(size=(1, 3, 4, 1)) * 0.1
    units = sample_paths._to_units(cfg, IdentityScaler(), [(OneSeries(), 0)], scaled)
    if transform == "difference":  # every path starts at the last level and adds up its own changes
        expected = 10.0 + np.cumsum(scaled[0], axis=1)
    elif transform == "log":
        expected = np.exp(scaled[0])
    else:
        expected = scaled[0]
    np.testing.assert_allclose(units[0], expected)
