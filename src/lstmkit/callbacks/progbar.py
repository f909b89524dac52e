"""Keras's progress bar (``keras.utils.Progbar``) with Keras 3's exact text.

On a terminal (or in IPython) it redraws one line in place: ``\\r``, a bold ``3/10``, a 20-wide green/grey
bar of ``━``, the ETA (then the elapsed seconds), the time per step and each metric (4 decimals, or
scientific below 1e-3), ending with a newline when the target is reached. Keras also redraws in place when the
output is a file or a pipe (it treats any POSIX system as a terminal), which fills logs with ``\\b``/``\\r``
runs; lstmkit instead writes only the finished line, without colour codes, once per bar when the stream is
not a terminal. ``verbose=2`` writes Keras's one summary line (``10/10 - 1s - 5ms/step - loss: ...``).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Iterable

import numpy as np

from .. import _validation

BOLD, GREEN, GREY, RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def is_terminal(stream: Any) -> bool:
    """True when ``stream`` redraws lines: a tty, or a notebook kernel."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) or "ipykernel" in sys.modules
    except ValueError:  # a closed stream
        return False


def format_time(time_per_unit: float, unit_name: str) -> str:
    """Keras's `` 12ms/step``: seconds from 1 s (or exactly 0), else ms, else us."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


def format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """A progress bar: ``update(current, values)`` after each step, ``finalize=True`` (or reaching ``target``)
    ends it.

    Args:
        target: the number of steps, None if unknown (``7/Unknown``).
        width: the bar's width in characters (20).
        verbose: 1 a bar, 2 one line at the end, 0 nothing.
        interval: the least seconds between two redraws (0.05).
        stateful_metrics / stateless_metrics: names shown as given / averaged over steps (at most one of them;
            with neither, every metric is averaged, as Keras).
        unit_name: ``"step"`` (``ms/step``) or e.g. ``"sample"``.
        file: the stream (default: ``sys.stdout`` at each write).
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stateless_metrics: Iterable[str] | None = None,
                 unit_name: str = "step", file: Any = None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise _validation.InputError("Progbar: pass stateful_metrics (names shown as given) or stateless_metrics (names "
                             "averaged), not both.")
        self.target, self.width, self.verbose = target, int(width), verbose
        self.interval, self.unit_name, self.file = interval, unit_name, file
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else (
            None if stateless_metrics is not None else set())
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        self._dynamic_display = is_terminal(self._stream())
        self._seen_so_far = 0
        self._values: dict[str, list] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def _stream(self) -> Any:
        return self.file or sys.stdout

    def _write(self, text: str) -> None:
        stream = self._stream()
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "━".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.replace("━", "=")
        stream.write(text)
        stream.flush()

    def _stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current: int, values: Iterable, finalize: bool) -> None:
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._stateless(name) or finalize:
                self._values[name] = [value, 1]
                continue
            weight = max(current - self._seen_so_far, 1)
            total = self._values.setdefault(name, [0.0, 0])
            total[0] += value * weight
            total[1] += weight
        self._seen_so_far = current

    def _average(self, name: str) -> float:
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    def _step_duration(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first (slow, warming-up) step once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            duration = (now - self._time_after_first_step) / (current - 1)
        else:
            duration = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return duration

    def update(self, current: int, values: Iterable | None = None, finalize: bool | None = None) -> None:
        """Show step ``current`` with ``values`` (``[(name, value), ...]``)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or [], finalize)
        now = time.time()
        per_step = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if self._dynamic_display:
                self._draw(current, now, per_step, finalize)
            elif finalize:
                self._write(self._line(current, now, per_step, finalize, colour=False) + "\n")
        elif self.verbose == 2 and finalize and self.target:
            self._write(self._summary(current, now, per_step))
        self._last_update = now

    def _line(self, current: int, now: float, per_step: float, finalize: bool, colour: bool) -> str:
        bold, green, grey, reset = (BOLD, GREEN, GREY, RESET) if colour else ("", "", "", "")
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            filled = int(self.width * float(current) / self.target)
            bar = f"{bold}{current:{digits}d}/{self.target}{reset} "
            if filled > 0:
                bar += f"{green}{'━' * filled}{reset}"
            bar += f"{grey}{'━' * (self.width - filled)}{reset}"
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            info = f" {bold}{format_eta(per_step * (self.target - current))}{reset}"
        else:
            info = f" {bold}{now - self._start:.0f}s{reset}"
        info += format_time(per_step, self.unit_name)
        for name in self._values_order:
            average = self._average(name)
            info += f" - {name}: {average:.4f}" if abs(average) > 1e-3 else f" - {name}: {average:.4e}"
        return bar + info

    def _draw(self, current: int, now: float, per_step: float, finalize: bool) -> None:
        line = self._line(current, now, per_step, finalize, colour=True)
        width = len(self._line(current, now, per_step, finalize, colour=False))
        message = "\b" * self._prev_total_width + "\r" + line
        if self._prev_total_width > width:
            message += " " * (self._prev_total_width - width)
        if finalize:
            message += "\n"
        self._write(message)
        self._prev_total_width = width

    def _summary(self, current: int, now: float, per_step: float) -> str:
        digits = int(math.log10(self.target)) + 1
        info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -{format_time(per_step, self.unit_name)}"
        for name in self._values_order:
            average = self._average(name)  # Keras compares the signed value here (negatives print as 1e notation)
            info += f" - {name}: {average:.4f}" if average > 1e-3 else f" - {name}: {average:.4e}"
        return info + "\n"

    def add(self, n: int, values: Iterable | None = None) -> None:
        self.update(self._seen_so_far + n, values)
