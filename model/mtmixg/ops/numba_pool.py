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


def size_pool() -> None:
    """Set NUMBA_NUM_THREADS to torch.get_num_threads() if unset; call just before numba is imported."""
    os.environ.setdefault("NUMBA_NUM_THREADS", str(torch.get_num_threads()))
