"""numba kernels: pure functions, compiled with ``cache=True``; they also run with NUMBA_DISABLE_JIT=1."""
