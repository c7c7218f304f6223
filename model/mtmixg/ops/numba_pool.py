"""Whether numba is installed, and the size of its thread pool, decided without importing numba.

numba fixes its pool size (NUMBA_NUM_THREADS) when it is imported, and its pool threads keep a
core busy even when a kernel runs on fewer (measured: a 1-thread demo-size mtmixg training loop
used 25.9 CPU-s in 15.4 s with numba's default pool of 2, and 14.8 CPU-s with a pool of 1). So the
package imports the numba kernels (numba_scan, numba_conv) on their first call, after the job has
set torch's threads, and `size_pool` makes the pool that size unless the user set
NUMBA_NUM_THREADS. Where another library imported numba first, its pool stays as it was.
"""

from __future__ import annotations

import importlib.util
import os

import torch

HAS_NUMBA: bool = importlib.util.find_spec("numba") is not None

AUTO_MARK = "MTMIXG_NUMBA_NUM_THREADS"
"""Holds the NUMBA_NUM_THREADS that size_pool set. numba re-reads its variables at every compile,
so the variable stays in os.environ, and child processes inherit it; where it still equals this
mark it is this package's choice, not the user's, and a child sizes its own pool."""


def size_pool() -> None:
    """Set NUMBA_NUM_THREADS to torch.get_num_threads() unless the user set it; call just before
    numba is imported."""
    chosen = os.environ.get("NUMBA_NUM_THREADS")
    if chosen is None or chosen == os.environ.get(AUTO_MARK):
        os.environ["NUMBA_NUM_THREADS"] = os.environ[AUTO_MARK] = str(torch.get_num_threads())
