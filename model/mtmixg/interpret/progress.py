"""Progress lines on stderr for long steps: "<label>: 120/250 genes, 48 s, ~52 s left"."""

from __future__ import annotations

import sys
import time


class Progress:
    """Count done items; print a line at most every `every` seconds and at the end."""

    def __init__(self, label: str, total: int, unit: str = "genes", every: float = 10.0) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.done = 0
        self.start = self.last = time.perf_counter()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            spent = now - self.start
            left = spent / self.done * (self.total - self.done) if self.done else 0.0
            print(f"{self.label}: {self.done}/{self.total} {self.unit}, {spent:.0f} s, ~{left:.0f} s left", file=sys.stderr, flush=True)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
