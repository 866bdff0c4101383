"""Synthetic 5-level order books consistent with the synthetic scan prices (vectorised per day).

Model, per asset ``i`` and snapshot ``t`` (one every ``ob_every`` scans, at the scan's timestamp):

- top-5 notional per side ``L_i * liq[t] * side[t, i] * noise``, with ``L_i`` a per-asset
  liquidity level (``BOOK_BASE_NOTIONAL`` by asset: BTC ~ $4M per side over 5 levels, ETH ~ $2.5M,
  majors ~ $1M, the rest $0.15-0.6M), ``liq[t] = vol_mult[t] ** -0.5 * thin[t]``: books thin when
  volatility is high and, ahead of a liquidation cascade, ``thin`` ramps linearly from 1 to
  ``THIN_FLOOR`` (0.2) over ``THIN_LEAD`` scans (10 min) before the crash, stays there during the
  crash and recovers over ``THIN_RECOVER`` scans.
- bid/ask split: share ``0.5 + 0.5 * 0.6 * imb[t, i]`` with ``imb`` an AR(1) per asset in [-1, 1]
  (phi 0.97 per snapshot), pushed towards the ask side (bids withdraw, down to -0.8) in the
  thinning phase: the order book leans to selling pressure before the cascade.
- level weights ``(1.0, 1.25, 1.5, 1.75, 2.0)`` normalised, times log-normal noise (sd 0.15).
- level prices: ``bid_k = p * (1 - s/2 - k * gap)``, ``ask_k = p * (1 + s/2 + k * gap)``, with
  spread ``s = max(tick / p, 0.5 bp) * vol_mult`` and level gap ``max(tick / p, 1 bp)``; depth =
  notional / level price (base units).
"""

import numpy as np

from nautilus_dolphin.obf.types import N_LEVELS

THIN_LEAD: int = 120
THIN_RECOVER: int = 240
THIN_FLOOR: float = 0.2
LEVEL_WEIGHTS: np.ndarray = np.array([1.0, 1.25, 1.5, 1.75, 2.0]) / 7.5

_MAJOR_NOTIONAL: dict[str, float] = {
    "BTCUSDT": 4.0e6,
    "ETHUSDT": 2.5e6,
    "SOLUSDT": 1.2e6,
    "BNBUSDT": 1.0e6,
    "XRPUSDT": 1.0e6,
    "DOGEUSDT": 0.8e6,
}


def base_notional(symbols: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per-asset top-5 notional per side (USDT) in calm conditions."""
    out = np.empty(len(symbols))
    for i, s in enumerate(symbols):
        if s in _MAJOR_NOTIONAL:
            out[i] = _MAJOR_NOTIONAL[s]
        else:
            # deterministic spread 0.15..0.6 M from the symbol's characters
            h = sum(ord(c) for c in s) % 10
            out[i] = 0.15e6 + 0.05e6 * h
    return out


def thinning_profile(n_scans: int, crash_starts: np.ndarray, crash_len: int) -> np.ndarray:
    """Return ``thin[t]`` in [THIN_FLOOR, 1] for each scan of a day (1 = normal depth)."""
    thin = np.ones(n_scans)
    t = np.arange(n_scans)
    for c in np.asarray(crash_starts, dtype=np.int64):
        lead = (t >= c - THIN_LEAD) & (t < c)
        frac = (t - (c - THIN_LEAD)) / THIN_LEAD
        prof = np.where(lead, 1.0 - (1.0 - THIN_FLOOR) * frac, 1.0)
        prof = np.where((t >= c) & (t < c + crash_len), THIN_FLOOR, prof)
        rec = (t >= c + crash_len) & (t < c + crash_len + THIN_RECOVER)
        prof = np.where(rec, THIN_FLOOR + (1.0 - THIN_FLOOR) * (t - c - crash_len) / THIN_RECOVER, prof)
        thin = np.minimum(thin, prof)
    return thin


def book_snapshots(
    prices: np.ndarray,
    vol_mult: np.ndarray,
    thin: np.ndarray,
    ticks: np.ndarray,
    base: np.ndarray,
    imb_state: np.ndarray,
    rng: np.random.Generator,
    ob_every: int,
) -> dict[str, np.ndarray]:
    """Build one day's snapshots in long form (rows = snapshot-major, asset-minor).

    Parameters
    ----------
    prices : (T, N) scan prices; vol_mult, thin : (T,) per-scan volatility multiplier and thinning;
    ticks, base : (N,) tick sizes and base notionals; imb_state : (N,) AR(1) imbalance carried
    across days (updated in place); ob_every : snapshot cadence in scans.

    Returns
    -------
    dict with ``scan_idx`` (R,), ``asset_idx`` (R,) and ``bid_notional``, ``ask_notional``,
    ``bid_depth``, ``ask_depth`` as (R, 5) arrays.
    """
    T, N = prices.shape
    idx = np.arange(0, T, ob_every)
    S = len(idx)
    p = prices[idx]  # (S, N)
    vm = vol_mult[idx][:, None]
    th = thin[idx][:, None]
    stress = (1.0 - th) / (1.0 - THIN_FLOOR)  # 0 calm .. 1 fully thinned
    # AR(1) imbalance per asset
    phi = 0.97
    eps = rng.normal(0.0, 0.25, size=(S, N))
    imb = np.empty((S, N))
    cur = imb_state.copy()
    for s in range(S):
        cur = phi * cur + np.sqrt(1 - phi**2) * eps[s]
        imb[s] = cur
    imb_state[:] = cur
    imb = np.clip(np.tanh(imb), -1.0, 1.0)
    imb = (1.0 - stress) * imb + stress * -0.8
    bid_share = 0.5 + 0.5 * 0.6 * imb
    total = 2.0 * base[None, :] * vm**-0.5 * th * np.exp(rng.normal(0.0, 0.1, size=(S, N)))
    bid_tot = total * bid_share
    ask_tot = total * (1.0 - bid_share)
    wn = LEVEL_WEIGHTS * np.exp(rng.normal(0.0, 0.15, size=(2, S, N, N_LEVELS)))  # (2, S, N, 5)
    wn = wn / wn.sum(axis=3, keepdims=True)
    bid_not = bid_tot[..., None] * wn[0]
    ask_not = ask_tot[..., None] * wn[1]
    rel_tick = ticks[None, :] / p
    spread = np.maximum(rel_tick, 0.5e-4) * vm
    gap = np.maximum(rel_tick, 1e-4)
    k = np.arange(N_LEVELS)[None, None, :]
    bid_px = p[..., None] * (1.0 - spread[..., None] / 2 - k * gap[..., None])
    ask_px = p[..., None] * (1.0 + spread[..., None] / 2 + k * gap[..., None])
    return {
        "scan_idx": np.repeat(idx, N),
        "asset_idx": np.tile(np.arange(N), S),
        "bid_notional": bid_not.reshape(S * N, N_LEVELS),
        "ask_notional": ask_not.reshape(S * N, N_LEVELS),
        "bid_depth": (bid_not / bid_px).reshape(S * N, N_LEVELS),
        "ask_depth": (ask_not / ask_px).reshape(S * N, N_LEVELS),
    }
