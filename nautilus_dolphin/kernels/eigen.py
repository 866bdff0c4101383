"""Eigenvalue scanner: DOLPHIN scan features from a stream of asset prices (numba).

Definitions (all per scan ``t``; ``N`` assets; windows ``W`` in ``(50, 150, 300, 750)`` scans):

- log return ``r[t, i] = log(p[t, i] / p[t-1, i])``; 0 when either price is missing (NaN) or
  not positive, so a missing price counts as "no move".
- window ``W`` holds the last ``n = min(count, W)`` returns; ``C_W`` is their Pearson correlation
  matrix. An asset whose return variance in the window is ``<= VAR_EPS`` (constant price) gets
  ``C_ii = 1`` and ``C_ij = 0``: it is its own uncorrelated mode, so ``trace(C) = N`` and
  ``0 <= lambda <= N`` always hold.
- ``lambda_W(t)``: the largest eigenvalue of ``C_W``, by power iteration warm-started from the
  previous scan's eigenvector, stopped when the residual ``||C x - lambda x|| <= tol * max(1, lambda)``
  (the Rayleigh quotient error is then of order residual^2 / spectral gap). The warm start gets a
  1e-6 generic perturbation, and a result below 1 (impossible: ``lambda_max >= trace / N = 1``)
  triggers a restart, so an exact eigenvector of a smaller eigenvalue cannot trap the iteration.
  When the iteration has not converged after ``max_iter`` steps (two nearly equal leading
  eigenvalues), the top eigenpair comes from a dense symmetric solver (LAPACK ``eigh``) instead.
  NaN while ``n < 2``.
- velocity ``v_W(t) = VELOCITY_SCALE * (lambda_W(t) - lambda_W(t-1)) / N``: the per-scan change of
  the fraction of total variance carried by the dominant mode (columns
  ``v{W}_lambda_max_velocity``), times ``VELOCITY_SCALE = 2``. The real DOLPHIN scanner's scale is
  not documented; 2 was chosen so that, on the synthetic market, ``vel_div`` crosses the engine's
  -0.02 entry threshold often enough for roughly 2,000 entries over the 56-day gold window.
- instability ``instability_W(t) = 1 - |u_W(t) . u_W(t-1)|`` with ``u`` the unit eigenvector: how
  much the dominant mode rotated in one scan, in ``[0, 1]`` (computed for the first two windows).
- ``vel_div(t) = v_short(t) - v_long(t)`` (``v50 - v750``): short-window eigenvalue velocity minus
  long-window velocity. Strongly negative = the short-horizon market mode is collapsing faster
  than the long-horizon one (a decorrelation shock).

Incremental update: per window the kernel keeps shifted sums ``S1 = sum(r - c)`` and
``S2 = sum((r - c)(r - c)^T)`` over the window, adding the new return and subtracting the one that
leaves (O(N^2) per scan per window); the shift ``c`` (the window mean at the last refresh) limits
cancellation, and the sums are recomputed exactly from the ring buffer every ``W`` scans to stop
floating-point drift (amortised O(N^2)). ``C x`` is formed directly from ``S2`` without building
``C``. The same kernel serves the live ``EigenScanner`` (one scan at a time) and the batch
function ``scan_features`` (a whole day).
"""

import math

import numpy as np
from numba import njit

DEFAULT_WINDOWS: tuple[int, ...] = (50, 150, 300, 750)
VELOCITY_SCALE: float = 2.0
"""Output scale of the velocities (see module docstring)."""
VAR_EPS: float = 1e-18
"""Return variance at or below which an asset is treated as constant (uncorrelated)."""
DEFAULT_TOL: float = 1e-9
DEFAULT_MAX_ITER: int = 2000
PERTURB: float = 1e-6
_FM = {"reassoc", "contract"}
"""fastmath flags: reassociation lets LLVM vectorise the dot products; NaN/inf semantics are kept."""

# Output layout of one scan: lambda[K], velocity[K], instability[2], vel_div
def n_outputs(n_windows: int) -> int:
    """Return the width of one output row for ``n_windows`` windows."""
    return 2 * n_windows + 3


@njit(cache=True, fastmath=_FM)
def _recompute(k, W, count, head, wmax, ring, S1, S2, shift, N):
    """Recompute the shifted sums of window ``k`` exactly from the ring buffer."""
    n = min(count, W)
    # new shift: mean of the window
    for i in range(N):
        s = 0.0
        for j in range(n):
            s += ring[(head - 1 - j) % wmax, i]
        shift[k, i] = s / n if n > 0 else 0.0
    for i in range(N):
        S1[k, i] = 0.0
        for j in range(N):
            S2[k, i, j] = 0.0
    for m in range(n):
        row = (head - 1 - m) % wmax
        for i in range(N):
            di = ring[row, i] - shift[k, i]
            S1[k, i] += di
            for j in range(i, N):
                S2[k, i, j] += di * (ring[row, j] - shift[k, j])
    for i in range(N):
        for j in range(i + 1, N):
            S2[k, j, i] = S2[k, i, j]


@njit(cache=True, fastmath=_FM)
def _matvec(k, n, S1, S2, dinv, const, x, y, u, N):
    """y = C x for window ``k``, using C = D (S2/n - m m^T) D with m = S1/n, diag 1 for constants."""
    b = 0.0
    for i in range(N):
        u[i] = dinv[i] * x[i]
        b += (S1[k, i] / n) * u[i]
    for i in range(N):
        a = 0.0
        for j in range(N):
            a += S2[k, i, j] * u[j]
        if const[i]:
            y[i] = x[i]
        else:
            y[i] = dinv[i] * (a / n - (S1[k, i] / n) * b)


@njit(cache=True, fastmath=_FM)
def _power(k, n, S1, S2, dinv, const, x, y, u, N, tol, max_iter):
    """Power iteration from unit ``x`` (updated in place); returns (Rayleigh quotient, converged)."""
    lam = 0.0
    for _ in range(max_iter):
        _matvec(k, n, S1, S2, dinv, const, x, y, u, N)
        lam = 0.0
        for i in range(N):
            lam += x[i] * y[i]
        res = 0.0
        ny = 0.0
        for i in range(N):
            d = y[i] - lam * x[i]
            res += d * d
            ny += y[i] * y[i]
        ny = math.sqrt(ny)
        if math.sqrt(res) <= tol * max(1.0, lam) or ny == 0.0:
            return lam, True
        for i in range(N):
            x[i] = y[i] / ny
    return lam, False


@njit(cache=True)
def _dense_top(k, n, S1, S2, dinv, const, x, y, u, N):
    """Top eigenpair by a dense symmetric solver (LAPACK): the fallback when power iteration stalls.

    Power iteration converges like ``(lambda_2 / lambda_1)^iterations``; with two nearly equal
    leading eigenvalues (a weakly correlated pair, say) ``max_iter`` steps are not enough. Builds
    ``C`` column by column with ``_matvec`` (O(N^3), rare) and writes the eigenvector to ``x``.
    """
    C = np.empty((N, N))
    for j in range(N):
        for i in range(N):
            x[i] = 0.0
        x[j] = 1.0
        _matvec(k, n, S1, S2, dinv, const, x, y, u, N)
        for i in range(N):
            C[i, j] = y[i]
    for i in range(N):
        for j in range(i + 1, N):
            m = 0.5 * (C[i, j] + C[j, i])
            C[i, j] = m
            C[j, i] = m
    w, v = np.linalg.eigh(C)
    for i in range(N):
        x[i] = v[i, N - 1]
    return w[N - 1]


@njit(cache=True, fastmath=_FM)
def _lambda_max(k, n, S1, S2, vec, dinv, const, x, y, u, N, tol, max_iter):
    """Largest eigenvalue of window ``k``'s correlation matrix; updates ``vec[k]`` in place."""
    for i in range(N):
        mi = S1[k, i] / n
        var = S2[k, i, i] / n - mi * mi
        if var > VAR_EPS:
            dinv[i] = 1.0 / math.sqrt(var)
            const[i] = False
        else:
            dinv[i] = 0.0
            const[i] = True
    nrm = 0.0
    for i in range(N):
        x[i] = vec[k, i]
        nrm += x[i] * x[i]
    if nrm > 0.0 and math.isfinite(nrm):
        # a tiny generic perturbation: a warm start that is exactly an eigenvector of a smaller
        # eigenvalue (possible with +-1 correlations) would otherwise never leave it
        nrm = math.sqrt(nrm)
        nrm2 = 0.0
        for i in range(N):
            x[i] = x[i] / nrm + PERTURB * (1.0 + 0.5 * math.sin(1.7 * i + 0.3))
            nrm2 += x[i] * x[i]
        nrm = nrm2
    else:
        for i in range(N):
            x[i] = 1.0
        nrm = float(N)
    nrm = math.sqrt(nrm)
    for i in range(N):
        x[i] /= nrm
    lam, ok = _power(k, n, S1, S2, dinv, const, x, y, u, N, tol, max_iter)
    if lam < 1.0 - 1e-9:
        # lambda_max >= trace / N = 1, so the warm start was (numerically) an eigenvector of a
        # smaller eigenvalue: restart from a fixed generic vector.
        for i in range(N):
            x[i] = 1.0 + 0.5 * math.sin(1.7 * i + 0.3)
        nrm = 0.0
        for i in range(N):
            nrm += x[i] * x[i]
        nrm = math.sqrt(nrm)
        for i in range(N):
            x[i] /= nrm
        lam, ok = _power(k, n, S1, S2, dinv, const, x, y, u, N, tol, max_iter)
    if not ok:
        lam = _dense_top(k, n, S1, S2, dinv, const, x, y, u, N)
    for i in range(N):
        vec[k, i] = x[i]
    return lam


@njit(cache=True, fastmath=_FM)
def scanner_step(
    prices, windows, lp_prev, ring, meta, S1, S2, shift, since, vec, lam_prev, work, out, tol, max_iter
):
    """Advance the scanner by one scan and write that scan's features into ``out``.

    ``meta = [count, head]`` (returns seen, next ring row); ``work`` is an (N, 5) scratch array.
    ``out`` layout: ``lambda[K], velocity[K], instability[2], vel_div``.
    """
    N = prices.shape[0]
    K = windows.shape[0]
    wmax = ring.shape[0]
    count = meta[0]
    head = meta[1]
    # 1. log returns (0 for missing / non-positive prices)
    r = work[:, 0]
    first = count == 0 and not np.any(np.isfinite(lp_prev))
    for i in range(N):
        p = prices[i]
        if math.isfinite(p) and p > 0.0:
            lp = math.log(p)
            if math.isfinite(lp_prev[i]):
                r[i] = lp - lp_prev[i]
            else:
                r[i] = 0.0
            lp_prev[i] = lp
        else:
            r[i] = 0.0
    if first:
        # the very first scan has no return: emit NaN features, keep the prices
        for j in range(out.shape[0]):
            out[j] = np.nan
        return
    # 2. update every window's sums with the entering / leaving return
    for k in range(K):
        W = windows[k]
        if count >= W:
            old = (head - W) % wmax
            for i in range(N):
                oi = ring[old, i] - shift[k, i]
                ni = r[i] - shift[k, i]
                S1[k, i] += ni - oi
                for j in range(i, N):
                    v = S2[k, i, j] + ni * (r[j] - shift[k, j]) - oi * (ring[old, j] - shift[k, j])
                    S2[k, i, j] = v
                    S2[k, j, i] = v
        else:
            for i in range(N):
                ni = r[i] - shift[k, i]
                S1[k, i] += ni
                for j in range(i, N):
                    v = S2[k, i, j] + ni * (r[j] - shift[k, j])
                    S2[k, i, j] = v
                    S2[k, j, i] = v
    for i in range(N):
        ring[head, i] = r[i]
    head = (head + 1) % wmax
    count += 1
    meta[0] = count
    meta[1] = head
    # 3. periodic exact refresh, eigenvalue, velocity, instability
    x = work[:, 1]
    y = work[:, 2]
    u = work[:, 3]
    dinv = work[:, 4]
    const = np.zeros(N, dtype=np.bool_)
    for k in range(K):
        W = windows[k]
        since[k] += 1
        if since[k] >= W:
            _recompute(k, W, count, head, wmax, ring, S1, S2, shift, N)
            since[k] = 0
        n = min(count, W)
        if n < 2:
            out[k] = np.nan
            out[K + k] = np.nan
            if k < 2:
                out[2 * K + k] = np.nan
            continue
        prev_vec = work[:, 0]  # r is no longer needed
        for i in range(N):
            prev_vec[i] = vec[k, i]
        lam = _lambda_max(k, n, S1, S2, vec, dinv, const, x, y, u, N, tol, max_iter)
        out[k] = lam
        out[K + k] = VELOCITY_SCALE * (lam - lam_prev[k]) / N  # NaN when lam_prev is NaN
        if k < 2:
            dot = 0.0
            pn = 0.0
            for i in range(N):
                dot += prev_vec[i] * vec[k, i]
                pn += prev_vec[i] * prev_vec[i]
            if pn > 0.0 and math.isfinite(lam_prev[k]):
                out[2 * K + k] = max(0.0, 1.0 - abs(dot) / math.sqrt(pn))
            else:
                out[2 * K + k] = np.nan
        lam_prev[k] = lam
    out[2 * K + 2] = out[K] - out[2 * K - 1]


@njit(cache=True)
def scanner_run(
    prices, windows, lp_prev, ring, meta, S1, S2, shift, since, vec, lam_prev, work, out, tol, max_iter
):
    """Run ``scanner_step`` over every row of ``prices`` (T, N), writing ``out`` (T, 2K+3)."""
    for t in range(prices.shape[0]):
        scanner_step(
            prices[t], windows, lp_prev, ring, meta, S1, S2, shift, since, vec, lam_prev, work, out[t],
            tol, max_iter,
        )


class EigenScanner:
    """Streaming scanner state: feed one scan (or a block of scans) at a time.

    Parameters
    ----------
    n_assets : int
        Number of price columns.
    windows : tuple of int
        Rolling windows in scans, shortest first; ``vel_div`` = velocity of the first minus the last.
    tol, max_iter : float, int
        Power-iteration stopping rule (residual relative to ``max(1, lambda)``).
    """

    def __init__(
        self,
        n_assets: int,
        windows: tuple[int, ...] = DEFAULT_WINDOWS,
        tol: float = DEFAULT_TOL,
        max_iter: int = DEFAULT_MAX_ITER,
    ) -> None:
        if n_assets < 1:
            raise ValueError(f"n_assets must be >= 1, got {n_assets}")
        if len(windows) < 2 or any(w < 2 for w in windows) or list(windows) != sorted(windows):
            raise ValueError(f"windows must be >= 2 entries, each >= 2, ascending; got {windows}")
        self.n_assets = n_assets
        self.windows = np.asarray(windows, dtype=np.int64)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        K, N, wmax = len(windows), n_assets, int(max(windows))
        self.lp_prev = np.full(N, np.nan)
        self.ring = np.zeros((wmax, N))
        self.meta = np.zeros(2, dtype=np.int64)
        self.S1 = np.zeros((K, N))
        self.S2 = np.zeros((K, N, N))
        self.shift = np.zeros((K, N))
        self.since = np.zeros(K, dtype=np.int64)
        self.vec = np.full((K, N), 1.0 / np.sqrt(N))
        self.lam_prev = np.full(K, np.nan)
        self.work = np.zeros((N, 5))

    @property
    def n_out(self) -> int:
        """Width of one output row (``lambda[K], velocity[K], instability[2], vel_div``)."""
        return n_outputs(len(self.windows))

    def _args(self) -> tuple:
        return (
            self.windows, self.lp_prev, self.ring, self.meta, self.S1, self.S2, self.shift, self.since,
            self.vec, self.lam_prev, self.work,
        )

    def update(self, prices: np.ndarray) -> np.ndarray:
        """Feed one scan's prices (N,) and return its feature row (see ``n_out``)."""
        p = np.ascontiguousarray(prices, dtype=np.float64)
        if p.shape != (self.n_assets,):
            raise ValueError(f"expected {self.n_assets} prices, got shape {p.shape}")
        out = np.empty(self.n_out)
        scanner_step(p, *self._args(), out, self.tol, self.max_iter)
        return out

    def update_batch(self, prices: np.ndarray) -> np.ndarray:
        """Feed a block of scans (T, N) and return the (T, n_out) feature rows."""
        p = np.ascontiguousarray(prices, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self.n_assets:
            raise ValueError(f"expected (T, {self.n_assets}) prices, got shape {p.shape}")
        out = np.empty((p.shape[0], self.n_out))
        scanner_run(p, *self._args(), out, self.tol, self.max_iter)
        return out

    def correlation(self, k: int) -> np.ndarray:
        """Return window ``k``'s current correlation matrix (diagnostics and tests)."""
        n = min(int(self.meta[0]), int(self.windows[k]))
        if n < 2:
            raise ValueError("fewer than 2 returns in the window")
        m = self.S1[k] / n
        cov = self.S2[k] / n - np.outer(m, m)
        return _cov_to_corr(cov)


def _cov_to_corr(cov: np.ndarray) -> np.ndarray:
    var = np.diag(cov).copy()
    const = var <= VAR_EPS
    d = np.where(const, 0.0, 1.0 / np.sqrt(np.where(const, 1.0, var)))
    c = cov * np.outer(d, d)
    c[const, :] = 0.0
    c[:, const] = 0.0
    c[np.diag_indices_from(c)] = 1.0
    return c


def log_returns(prices: np.ndarray) -> np.ndarray:
    """Return the scanner's log returns of a (T, N) price block (row 0 is all 0)."""
    p = np.asarray(prices, dtype=np.float64)
    ok = np.isfinite(p) & (p > 0)
    lp = np.where(ok, np.log(np.where(ok, p, 1.0)), np.nan)
    r = np.zeros_like(p)
    # previous valid log price carried forward, as the streaming kernel does
    last = lp[0].copy()
    for t in range(1, p.shape[0]):
        cur = lp[t]
        valid = np.isfinite(cur) & np.isfinite(last)
        r[t] = np.where(valid, cur - last, 0.0)
        last = np.where(np.isfinite(cur), cur, last)
    return r


def full_correlation(returns_window: np.ndarray) -> np.ndarray:
    """Correlation matrix of a (n, N) block of returns with the scanner's constant-asset rule."""
    r = np.asarray(returns_window, dtype=np.float64)
    m = r.mean(axis=0)
    cov = (r - m).T @ (r - m) / r.shape[0]
    return _cov_to_corr(cov)


def scan_features(
    prices: np.ndarray,
    windows: tuple[int, ...] = DEFAULT_WINDOWS,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    warmup: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Batch scanner for a whole day: the vbt_cache signal columns from a (T, N) price matrix.

    ``warmup`` (M, N) prices are fed first (e.g. the previous day's tail) and not returned.
    Returns a dict with ``vel_div``, ``v{W}_lambda_max_velocity`` per window, ``instability_{W}``
    for the first two windows and ``lambda_{W}`` per window, each of length T.
    """
    p = np.asarray(prices, dtype=np.float64)
    sc = EigenScanner(p.shape[1], windows, tol, max_iter)
    if warmup is not None and len(warmup):
        sc.update_batch(np.asarray(warmup, dtype=np.float64))
    out = sc.update_batch(p)
    return features_from_output(out, windows)


def features_from_output(out: np.ndarray, windows: tuple[int, ...] = DEFAULT_WINDOWS) -> dict[str, np.ndarray]:
    """Name the columns of scanner output rows (T, 2K+3)."""
    K = len(windows)
    res: dict[str, np.ndarray] = {}
    for k, w in enumerate(windows):
        res[f"lambda_{w}"] = out[:, k]
        res[f"v{w}_lambda_max_velocity"] = out[:, K + k]
    for k in range(2):
        res[f"instability_{windows[k]}"] = out[:, 2 * K + k]
    res["vel_div"] = out[:, 2 * K + 2]
    return res
