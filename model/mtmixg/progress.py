"""Progress lines for long loops (training epochs, `explain`, `score-variants`), made for a log file.

One whole line per report, no carriage returns (a Slurm log or a rule's log is a file), flushed at once:

    epoch 3: batch 120/1,200 (10%), 412 seq/s, ETA 4m10s

A line comes when the work passes the next tenth of its total (STEPS) or when INTERVAL seconds
have passed since the last line, whichever is first. Work of fewer than MIN_TOTAL steps gets no
tenth lines (an epoch of a few batches would fill a log with them), only the interval lines, so it
stays silent unless it takes longer than INTERVAL. No line at the end: the caller's own summary
line (the epoch line, `explain`'s and `score-variants`' last lines) reports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .core.log import log_stderr

INTERVAL = 60.0  # seconds between lines at most (while the work goes on)
STEPS = 10  # a line at every tenth of the work...
MIN_TOTAL = 20  # ...when the work has at least this many steps


def duration(seconds: float) -> str:
    """A time span as 52s, 4m10s or 2h05m."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def rate(per_second: float) -> str:
    """A rate with the digits that matter: 1,412, 41, 3.5, 0.021."""
    if per_second >= 10:
        return f"{per_second:,.0f}"
    return f"{per_second:.1f}" if per_second >= 1 else f"{per_second:.2g}"


class Progress:
    """Count the steps of a loop of `total` steps and write progress lines to log (see module doc).

    Call it after each step: progress(steps, items), items (what the rate counts, e.g. sequences
    in a batch) defaulting to steps. clock, interval, steps and min_total are there for tests.
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "batch",
        rate_unit: str = "seq",
        *,
        log: Callable[[str], None] = log_stderr,
        interval: float = INTERVAL,
        steps: int = STEPS,
        min_total: int = MIN_TOTAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.label, self.total, self.unit, self.rate_unit = label, total, unit, rate_unit
        self.log, self.interval, self.steps, self.min_total, self.clock = log, interval, steps, min_total, clock
        self.done = self.items = self.mark = 0
        self.start = self.last = clock()

    def __call__(self, steps: int = 1, items: int | None = None) -> None:
        self.done += steps
        self.items += steps if items is None else items
        now = self.clock()
        mark = self.done * self.steps // self.total if self.total > 0 else 0
        tenth = mark > self.mark and self.total >= self.min_total
        self.mark = mark
        if self.done < self.total and (tenth or now - self.last >= self.interval):
            self.last = now
            self.log(self.line(now))

    def batch(self, rows: int) -> None:
        """One step of `rows` items (predict's on_batch)."""
        self(1, rows)

    def line(self, now: float) -> str:
        """The progress line at time now: label, steps done, percentage, rate and time left."""
        spent = now - self.start
        per_second = self.items / spent if spent > 0 else 0.0
        left = spent / self.done * (self.total - self.done) if self.done else 0.0
        return (f"{self.label}: {self.unit} {self.done:,}/{self.total:,} ({100 * self.done // self.total}%), "
                f"{rate(per_second)} {self.rate_unit}/s, ETA {duration(left)}")

    @property
    def seconds(self) -> float:
        """Seconds since the start."""
        return self.clock() - self.start
