"""Append-only price history with a bounded tail, shared by the batch and the streaming paths."""

import numpy as np


class PriceHistory:
    """Rows of asset prices (one row per processed bar) in a contiguous float64 buffer.

    Rows ``[0, n)`` are always real data in time order. When the buffer fills, the last ``keep``
    rows move to the front (amortised O(1) per row), so a window of ``keep`` rows ending at any
    row appended since the last compaction is a contiguous slice.
    """

    def __init__(self, n_assets: int, keep: int, capacity: int = 8192) -> None:
        self.n_assets = n_assets
        self.keep = keep
        self.buf = np.full((max(capacity, 2 * keep), n_assets), np.nan)
        self.n = 0
        self.total = 0

    def _make_room(self, rows: int) -> None:
        if self.n + rows <= self.buf.shape[0]:
            return
        tail = min(self.n, self.keep)
        if tail:
            self.buf[:tail] = self.buf[self.n - tail : self.n]
        self.n = tail
        if self.n + rows > self.buf.shape[0]:
            grown = np.full((self.n + rows + self.keep, self.n_assets), np.nan)
            grown[: self.n] = self.buf[: self.n]
            self.buf = grown

    def append_row(self, row: np.ndarray) -> int:
        """Append one row and return its buffer index."""
        self._make_room(1)
        self.buf[self.n] = row
        self.n += 1
        self.total += 1
        return self.n - 1

    def append_block(self, block: np.ndarray) -> int:
        """Append rows in bulk and return the buffer index of the first one."""
        rows = block.shape[0]
        self._make_room(rows)
        start = self.n
        self.buf[start : start + rows] = block
        self.n += rows
        self.total += rows
        return start
