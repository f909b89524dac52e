"""Scaling for sequence data: any scikit-learn scaler on 2-D, 3-D and DataFrame inputs.

``SeriesScaler`` wraps a scikit-learn transformer (``MinMaxScaler``, ``StandardScaler``,
``RobustScaler`` or an instance of your own) so that the usual sequence-model chores are one call:
3-D ``(n, T, F)`` arrays (reshaped to ``(n * T, F)`` around scikit-learn), padded steps left out of
``fit``, a scaler per group, and inverting the one target column of a scaler fitted on all the
features (the tutorial bug of inverting predictions with the wrong column's statistics).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from .._lazy import pandas as pd

from .. import _validation
from .checks import check_finite, describe_rows, row_labels, to_numpy
from .sequences import check_columns

_SCALERS = {"minmax": "MinMaxScaler", "standard": "StandardScaler", "robust": "RobustScaler"}


LOADABLE_SCALERS = frozenset({"MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler"})


class SeriesScaler:
    """Fit a scikit-learn scaler on the training part, then scale / unscale 2-D, 3-D or DataFrame data.

    Args:
        scaler: ``"minmax"`` (default, ``MinMaxScaler()``), ``"standard"``, ``"robust"``, or a
            scikit-learn transformer instance (cloned, never fitted in place), e.g.
            ``MinMaxScaler(feature_range=(-1, 1))``.
        per_group: if True, fit one clone of the scaler per group id (``fit(..., groups=...)``);
            default False: one scaler for all rows.
        columns: the features to scale, as names (DataFrame) or positions along the last axis
            (default None: all). The others pass through unchanged.

    Fitted attributes: ``n_features_in_``, ``feature_names_in_`` (None unless fitted on a DataFrame),
    ``scaled_columns_`` (positions), and ``scaler_`` (or ``scalers_``, a dict group id -> scaler).

    Example:
        >>> scaler = SeriesScaler("robust").fit(x_train, mask=mask_train)   # x: (n, T, F)
        >>> x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
        >>> pressure = scaler.inverse_transform(pred, columns=["pressure"])   # pred: (n, T)
    """

    def __init__(self, scaler: Any = "minmax", per_group: bool = False, columns: Sequence | None = None):
        self.scaler = _check_scaler(scaler)
        self.per_group = _validation.boolean("SeriesScaler", "per_group", per_group)
        self.columns = None if columns is None else _as_list(columns)
        if self.columns is not None and not self.columns:
            raise _validation.value_error("SeriesScaler", "`columns`", "None (all) or at least one column",
                                          "an empty list")

    def __repr__(self) -> str:
        return f"SeriesScaler(scaler={self.scaler!r}, per_group={self.per_group}, columns={self.columns!r})"

    # --- public API --------------------------------------------------------------------------------

    def fit(self, data: Any, groups: Any = None, mask: Any = None) -> "SeriesScaler":
        """Learn the scaling from ``data`` — the training part only, so test statistics do not leak.

        Args:
            data: ``(rows, F)`` or ``(n, T, F)`` array (NumPy, torch, lists) or a DataFrame.
            groups: with ``per_group=True``, one group id per item of axis 0 (per row of a 2-D
                array / frame, per sequence of a 3-D array, e.g. ``seq.ids``), or a column name of
                a DataFrame. Default None.
            mask: optional bool array of shape ``data.shape[:-1]`` (e.g. ``seq.mask``): only True
                steps are used to fit, so padding does not skew the statistics. Default None.

        Returns:
            ``self``.

        Example:
            >>> scaler = SeriesScaler("minmax").fit(x_train)
        """
        owner = "SeriesScaler.fit"
        if isinstance(data, pd.DataFrame):
            names = list(data.columns)
            scaled = _resolve(owner, "columns", self.columns, names, len(names)) if self.columns else \
                list(range(len(names)))
            _check_numeric_columns(owner, data, [names[p] for p in scaled])
            values, shape = _float_values(owner, data[[names[p] for p in scaled]]), (len(data), len(names))
        else:
            array = _array(owner, data)
            names, shape = None, array.shape
            scaled = _resolve(owner, "columns", self.columns, None, shape[-1]) if self.columns else \
                list(range(shape[-1]))
            values = array[..., scaled]
        if not scaled or 0 in shape:  # NumPy's reshape(-1, 0) would fail with a bare error
            raise _validation.value_error(owner, "`data`", "at least one row and one feature to fit on",
                                          f"data of shape {tuple(shape)}", "Check how the data was sliced.")
        rows = self._rows(owner, mask, shape)
        check_finite(values if rows is None else np.where(rows.reshape(shape[:-1] + (1,)), values, 0),
                     owner, "data", source=data)
        block = values.reshape(-1, len(scaled))
        labels = self._group_rows(owner, data, groups, shape)
        if rows is not None:
            block = block[rows]
            labels = labels[rows] if labels is not None else None
        if block.shape[0] == 0:
            raise _validation.value_error(owner, "`data`", "at least one row to fit on", "none",
                                          "Check the mask: it selects no steps.")
        self.n_features_in_ = shape[-1]
        self.feature_names_in_ = names
        self.scaled_columns_ = scaled
        from sklearn.base import clone  # scikit-learn loads on first use (~1 s), not at `import lstmkit`

        if self.per_group:
            self.scalers_ = {group: clone(self.scaler, safe=False).fit(block[index])
                             for group, index in _group_indices(labels).items()}
        else:
            self.scaler_ = clone(self.scaler, safe=False).fit(block)
        return self

    def transform(self, data: Any, groups: Any = None) -> Any:
        """Scale ``data`` with the fitted statistics; same shape and type back.

        Args:
            data: ``(rows, F)`` or ``(n, T, F)`` array, or a DataFrame holding the fitted columns.
            groups: group ids as in :meth:`fit` (needed with ``per_group=True``). Default None.

        Returns:
            The scaled data: an array of the input's shape (its float dtype, or float64), or a
            DataFrame with the same index and columns (unscaled columns untouched).

        Example:
            >>> x_test_scaled = scaler.transform(x_test)
        """
        return self._map("transform", "SeriesScaler.transform", data, groups, None)

    def fit_transform(self, data: Any, groups: Any = None, mask: Any = None) -> Any:
        """``fit(data, groups, mask)`` then ``transform(data, groups)`` (padded steps are scaled too)."""
        return self.fit(data, groups=groups, mask=mask).transform(data, groups=groups)

    def inverse_transform(self, data: Any, columns: Sequence | None = None, groups: Any = None) -> Any:
        """Undo the scaling, of all the fitted features or of only some of them (e.g. predictions).

        Args:
            data: like :meth:`transform`'s; with ``columns``, its last axis holds exactly those
                columns — or, for a single column, there may be no feature axis: ``(rows,)`` or
                ``(n, T)``. A DataFrame with a subset of the fitted columns is inverted by name.
            columns: names or positions of the fitted features that ``data`` holds, in order
                (default None: all the fitted features, or a DataFrame's own fitted columns).
                Columns that were not scaled pass through.
            groups: group ids as in :meth:`fit` (needed with ``per_group=True``). Default None.

        Returns:
            The unscaled data, same shape and type as ``data``.

        Example:
            >>> scaler = SeriesScaler().fit(train[["u_in", "u_out", "pressure"]])
            >>> pressure = scaler.inverse_transform(pred, columns=["pressure"])   # pred: (n, T)
        """
        owner = "SeriesScaler.inverse_transform"
        self._check_fitted(owner)
        if not hasattr(self._any_scaler(), "inverse_transform"):
            raise _validation.type_error(owner, "`scaler`", "a transformer with inverse_transform",
                                         type(self._any_scaler()).__name__)
        if columns is None and isinstance(data, pd.DataFrame) and self.feature_names_in_ is not None:
            columns = [c for c in data.columns if c in self.feature_names_in_]
            if not columns:
                raise _validation.value_error(
                    owner, "`data`", f"columns among the fitted ones ({self.feature_names_in_})",
                    f"columns {list(data.columns)}", "Rename them, or pass columns=[...].")
        return self._map("inverse_transform", owner, data, groups, columns)

    # --- saving without pickle ---------------------------------------------------------------------

    def get_state(self) -> dict:
        """The fitted scaler as JSON-ready data (class name, parameters, fitted arrays as lists), so it
        can be saved next to a model without pickle. Only scikit-learn's own scalers are supported."""
        owner = "SeriesScaler.get_state"
        self._check_fitted(owner)
        scalers = self.scalers_ if self.per_group else {None: self.scaler_}
        groups = []
        for group, scaler in scalers.items():
            if type(scaler).__module__.split(".")[0] != "sklearn":
                raise _validation.type_error(owner, "`scaler`", "a scikit-learn scaler (saved as JSON)",
                                             type(scaler).__name__, "Save custom transformers yourself.")
            fitted = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(scaler).items()
                      if k.endswith("_") and not k.startswith("_") and isinstance(v, (np.ndarray, numbers.Number))}
            groups.append({"group": _json_scalar(group), "fitted": fitted})
        template = next(iter(scalers.values()))
        return {"class": type(template).__name__, "params": template.get_params(), "per_group": self.per_group,
                "columns": self.columns, "n_features_in": self.n_features_in_,
                "feature_names_in": self.feature_names_in_, "scaled_columns": self.scaled_columns_,
                "scalers": groups}

    @classmethod
    def from_state(cls, state: dict) -> "SeriesScaler":
        """The fitted ``SeriesScaler`` that ``get_state`` described. The state is data: only scikit-learn's
        scalers by name (``LOADABLE_SCALERS``), their parameters, and fitted attributes (names ending in
        ``_``) as numbers or arrays; anything else is refused."""
        from sklearn import preprocessing

        owner = "SeriesScaler.from_state"
        if not isinstance(state, dict):
            raise _validation.type_error(owner, "`state`", "the dict SeriesScaler.get_state wrote",
                                         type(state).__name__)
        name = state.get("class")
        if name not in LOADABLE_SCALERS:
            raise _validation.value_error(owner, "`state`", "a state written by SeriesScaler.get_state, naming a "
                                          f"scaler among {sorted(LOADABLE_SCALERS)}",
                                          f"scaler class {str(name)[:80]!r}")
        kind = getattr(preprocessing, name)
        try:
            params = dict(state["params"])
            scalers = {}
            for entry in state["scalers"]:
                scaler = kind(**params)
                for key, value in dict(entry["fitted"]).items():
                    if not (isinstance(key, str) and key.endswith("_") and not key.startswith("_")):
                        raise _validation.value_error(owner, "`state`", "fitted attributes (names ending in _)",
                                                      repr(key)[:80])
                    if not isinstance(value, (list, int, float)) or isinstance(value, bool):
                        raise _validation.value_error(owner, f"`state` ({key})", "numbers or lists of numbers",
                                                      type(value).__name__)
                    setattr(scaler, key, np.asarray(value, dtype=float) if isinstance(value, list) else value)
                scalers[entry["group"]] = scaler
            new = cls(scaler=kind(**params), per_group=bool(state["per_group"]), columns=state["columns"])
            new.n_features_in_ = int(state["n_features_in"])
            new.feature_names_in_ = state["feature_names_in"]
            new.scaled_columns_ = list(state["scaled_columns"])
            if new.per_group:
                new.scalers_ = scalers
            else:
                new.scaler_ = scalers[None]
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, _validation.InputError):
                raise
            raise _validation.value_error(owner, "`state`", "the state SeriesScaler.get_state wrote",
                                          f"a damaged one ({type(error).__name__}: {error})") from None
        return new

    # --- internals ---------------------------------------------------------------------------------

    def _check_fitted(self, owner: str) -> None:
        if not hasattr(self, "scaled_columns_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(_validation.message(
                owner, "the scaler", "a fitted SeriesScaler", "one that was never fitted",
                "Call fit(train_data) first, on the training part only."))

    def _any_scaler(self) -> Any:
        return next(iter(self.scalers_.values())) if self.per_group else self.scaler_

    def _map(self, method: str, owner: str, data: Any, groups: Any, columns: Sequence | None) -> Any:
        """Apply ``method`` of the fitted scaler(s) to the scaled columns of ``data``."""
        self._check_fitted(owner)
        if columns is None:
            positions = list(range(self.n_features_in_))
        else:
            positions = _resolve(owner, "columns", _as_list(columns), self.feature_names_in_, self.n_features_in_)
        is_frame = isinstance(data, pd.DataFrame)
        squeeze = False
        if is_frame:  # only the scaled columns are read; the others stay as they are
            pairs = [(c, p) for c, p in self._frame_columns(owner, data, positions) if p in self.scaled_columns_]
            if not pairs:
                return data.copy()
            frame_cols, positions = [c for c, _ in pairs], [p for _, p in pairs]
            check_columns(owner, "data", data, frame_cols)
            _check_numeric_columns(owner, data, frame_cols)
            array = _float_values(owner, data[frame_cols])
        else:
            array = _array(owner, data, allow_1d=len(positions) == 1)
            squeeze = array.ndim == 1 or (len(positions) == 1 and array.shape[-1] != 1)
            if squeeze:
                array = array[..., None]
            if array.shape[-1] != len(positions):
                fix = None if columns is not None else "Pass columns=[...] to invert only some of the fitted columns."
                raise _validation.value_error(
                    owner, "`data`", f"{len(positions)} features on the last axis (as fitted)",
                    _validation.describe_array(array), fix)
        if method == "transform":
            check_finite(array, owner, "data", source=data)
        shape = array.shape
        labels = self._group_rows(owner, data, groups, shape)
        flat = array.reshape(-1, shape[-1])
        out = flat.copy()
        # the scaled block: fitted scaled columns in fit order, data's columns slotted where present
        slots = [(i, self.scaled_columns_.index(p)) for i, p in enumerate(positions) if p in self.scaled_columns_]
        if slots:
            block = np.zeros((flat.shape[0], len(self.scaled_columns_)), dtype=flat.dtype)
            for i, s in slots:
                block[:, s] = flat[:, i]
            result = self._apply(owner, method, block, labels)
            for i, s in slots:
                out[:, i] = result[:, s]
        out = out.reshape(shape)
        if is_frame:
            frame = data.copy()
            frame[frame_cols] = out
            return frame
        return out[..., 0] if squeeze else out

    def _frame_columns(self, owner: str, data: pd.DataFrame, positions: list) -> list:
        """(frame column, fitted position) pairs: by name, or by position for a scaler fitted on arrays."""
        if self.feature_names_in_ is not None:
            return [(self.feature_names_in_[p], p) for p in positions]
        if data.shape[1] != len(positions):
            raise _validation.value_error(owner, "`data`", f"a frame of {len(positions)} columns (fitted on an array)",
                                          f"{data.shape[1]} columns")
        return list(zip(data.columns, positions))

    def _apply(self, owner: str, method: str, block: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        if block.shape[0] == 0:  # nothing to scale (scikit-learn refuses 0 samples)
            return block.copy()
        if not self.per_group:
            return np.asarray(getattr(self.scaler_, method)(block), dtype=block.dtype)
        out = np.empty_like(block)
        indices = _group_indices(labels)
        unseen = [group for group in indices if group not in self.scalers_]
        if unseen:
            shown = describe_rows([_show(g) for g in unseen])
            raise _validation.value_error(
                owner, "`groups`", f"groups seen by fit ({len(self.scalers_)} of them)",
                f"{len(unseen)} unseen group(s): {shown}",
                "Fit on data holding every group, or use per_group=False for new groups.")
        for group, index in indices.items():
            out[index] = getattr(self.scalers_[group], method)(block[index])
        return out

    def _rows(self, owner: str, mask: Any, shape: tuple) -> np.ndarray | None:
        if mask is None:
            return None
        array = to_numpy(mask, owner, "mask")
        if array.shape != tuple(shape[:-1]):
            raise _validation.value_error(owner, "`mask`",
                                          f"a bool array of shape {tuple(shape[:-1])} (data.shape[:-1])",
                                          _validation.describe_array(array), "Pass e.g. seq.mask.")
        if array.dtype != bool:
            raise _validation.type_error(owner, "`mask`", "a bool array (True = a real step)", f"dtype {array.dtype}")
        return array.reshape(-1)

    def _group_rows(self, owner: str, data: Any, groups: Any, shape: tuple) -> np.ndarray | None:
        """One group label per row of the 2-D reshape, or None without per_group."""
        if not self.per_group:
            if groups is not None:
                raise _validation.value_error(owner, "`groups`", "None when per_group=False", "group labels",
                                              "Pass SeriesScaler(..., per_group=True) for one scaler per group.")
            return None
        if groups is None:
            raise _validation.value_error(owner, "`groups`", "one group id per item of axis 0 when per_group=True",
                                          "None", "Pass groups=seq.ids (3-D) or groups=frame['id'] (rows).")
        if isinstance(data, pd.DataFrame) and isinstance(groups, (str, numbers.Number, tuple)):
            check_columns(owner, "groups", data, [groups])
            groups = data[groups]
        labels = to_numpy(groups, owner, "groups")
        if labels.ndim != 1 or len(labels) != shape[0]:
            raise _validation.value_error(owner, "`groups`", f"one group id per item of axis 0 ({shape[0]},)",
                                          _validation.describe_array(labels))
        missing = np.flatnonzero(pd.isna(labels))
        if len(missing):
            raise _validation.value_error(owner, "`groups`", "a group id for every item",
                                          f"missing ids at {describe_rows(row_labels(data, missing))}")
        steps = int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
        return np.repeat(labels, steps)


# --- helpers ---------------------------------------------------------------------------------------

def _check_scaler(scaler: Any) -> Any:
    owner = "SeriesScaler"
    if isinstance(scaler, str):
        _validation.choice(owner, "scaler", scaler, tuple(_SCALERS))
        from sklearn import preprocessing

        return getattr(preprocessing, _SCALERS[scaler])()
    if isinstance(scaler, type):
        raise _validation.type_error(owner, "`scaler`", "a name or a transformer instance",
                                     f"the class {scaler.__name__}", f"Pass an instance: {scaler.__name__}().")
    if not (hasattr(scaler, "fit") and hasattr(scaler, "transform")):
        raise _validation.type_error(owner, "`scaler`", "'minmax', 'standard', 'robust' or a transformer "
                                     "instance with fit and transform", type(scaler).__name__)
    return scaler


def _as_list(columns: Any) -> list:
    if isinstance(columns, (str, numbers.Integral, tuple)) or not hasattr(columns, "__iter__"):
        return [columns]
    return list(columns)


def _resolve(owner: str, arg: str, columns: list, names: list | None, n_features: int) -> list:
    """Column names / positions as positions in ``range(n_features)``."""
    positions = []
    for column in columns:
        if isinstance(column, numbers.Integral) and not isinstance(column, bool) and \
                (names is None or column not in names):
            if not -n_features <= column < n_features:
                raise _validation.value_error(owner, f"`{arg}`", f"positions in [0, {n_features})", repr(column))
            positions.append(int(column) % n_features)
        elif names is None:
            raise _validation.value_error(owner, f"`{arg}`", "column positions (ints) for array data",
                                          repr(column), "Names need a scaler fitted on a DataFrame.")
        elif column not in names:
            raise _validation.InputKeyError(_validation.message(owner, f"`{arg}`", "fitted column names or positions",
                                               f"unknown column {column!r}", f"Available columns: {names}."))
        else:
            positions.append(names.index(column))
    if len(set(positions)) != len(positions):
        raise _validation.value_error(owner, f"`{arg}`", "each column once", repr(columns))
    return positions


def _array(owner: str, data: Any, allow_1d: bool = False) -> np.ndarray:
    array = to_numpy(data, owner, "data")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise _validation.type_error(owner, "`data`", "numeric values", f"dtype {array.dtype}",
                                     "Encode non-numeric features first.")
    if not (array.ndim in (2, 3) or (allow_1d and array.ndim == 1)):
        raise _validation.value_error(owner, "`data`", "a 2-D (rows, F) or 3-D (n, T, F) array",
                                      _validation.describe_array(array),
                                      "Reshape a single feature with x.reshape(-1, 1).")
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)


def _float_values(owner: str, frame: pd.DataFrame) -> np.ndarray:
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    dtypes = set(frame.dtypes)
    if len(dtypes) == 1 and np.dtype(np.float32) in dtypes:
        values = values.astype(np.float32)
    return values


def _check_numeric_columns(owner: str, frame: pd.DataFrame, columns: list) -> None:
    bad = [c for c in columns if not (pd.api.types.is_numeric_dtype(frame[c].dtype)
                                      or pd.api.types.is_bool_dtype(frame[c].dtype))]
    if bad:
        kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad)
        raise _validation.type_error(owner, "`data`", "numeric columns to scale", f"non-numeric column(s) {kinds}",
                                     "Pass columns=[...] to scale only the numeric ones.")


def _group_indices(labels: np.ndarray) -> dict:
    return pd.Series(labels).groupby(labels, sort=False).indices


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _json_scalar(value: Any) -> Any:
    """A group id as a JSON value (NumPy scalars as Python ones)."""
    return value.item() if isinstance(value, np.generic) else value
