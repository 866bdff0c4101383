"""Deterministic synthetic DOLPHIN market: 5-second scans of 48 USDT perpetuals, seeded.

Results on this data are **no evidence of alpha**: the market is built so that the strategy's
mechanics are exercised (it contains a planted mean-reversion response to the very signal the
strategy trades). See ``docs/data.md`` for every definition; in short, per scan ``t``:

``r[t, i] = m[t] * (b_i * L[reg] * f[t] + g_i * s[sec(i), t] + e_i * I[reg] * eps[t, i])
+ cascade[t, i] + rebound[t, i]``

- ``f``, ``s``, ``eps``: unit-variance Student-t draws (df from the BTC calibration, 4.35);
  ``m[t] = exp(hf + hs - var/2 ...)``: two AR(1) log-volatility components (half-lives 35.8 min
  and 382 min, calibrated) with ``E[m^2] = 1``; BTC's per-scan volatility is the calibrated
  ``sigma_5s`` (0.0285 %).
- regimes (Markov, per scan): NORMAL, BURST (factor loading x1.8, idiosyncratic x0.7: correlation
  burst) and DECORRELATED (x0.45 / x1.3); mean durations 60 / 25 / 20 minutes.
- liquidation cascades: Poisson, ``cascade_rate`` per day; a crash of 1.5-5 % (x beta, alts x1.5)
  over ``cascade_len`` scans with volatility x3, then a full retracement (40 % in 120 scans, the
  rest over 600; cut at the day's end); order books
  thin during the 10 minutes before (``synth_book``).
- mean-reversion response: when the scanner's ``vel_div`` (computed online from these prices by
  ``kernels.eigen``) falls below ``mr_threshold`` and no response is running, with probability
  ``mr_prob`` every asset gets a positive drift totalling ``A * vs_i`` over ``mr_horizon`` scans,
  ``A ~ U(mr_amp_lo, mr_amp_hi) * min(vel_div / mr_threshold, 2.5)``, ``vs_i`` the asset's
  volatility relative to the universe mean. The displacement is repaid by a slow drift
  ``-debt_i / mr_payback`` per scan (``debt_i`` accumulates ``A * vs_i`` per response), so the
  market has no net trend: prices sag slowly between signals and bounce after them.

Days: ``scans_per_day`` (+- ``scans_jitter``) scans at 5 s in three equal sessions starting 00:00,
08:00 and 16:00 UTC; prices continue across session gaps. A burn-in of ``burn_in`` scans before the
first day fills the scanner windows. Each day draws from ``np.random.default_rng([seed, day])``.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

from nautilus_dolphin.data.calibration import DEFAULT_CALIBRATION
from nautilus_dolphin.data.calibration import Calibration
from nautilus_dolphin.data.schema import INSTABILITY_COLS
from nautilus_dolphin.data.schema import SCAN_NUMBER_COL
from nautilus_dolphin.data.schema import TIMESTAMP_COL
from nautilus_dolphin.data.schema import VEL_DIV_COL
from nautilus_dolphin.data.schema import VELOCITY_COLS
from nautilus_dolphin.data.synth_book import base_notional
from nautilus_dolphin.data.synth_book import book_snapshots
from nautilus_dolphin.data.synth_book import thinning_profile
from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.data.universe import UNIVERSE
from nautilus_dolphin.kernels.eigen import DEFAULT_WINDOWS
from nautilus_dolphin.kernels.eigen import EigenScanner
from nautilus_dolphin.kernels.eigen import scanner_step
from nautilus_dolphin.obf.types import N_LEVELS

DEFAULT_START: date = date(2025, 12, 31)
DEFAULT_DAYS: int = 56
SESSION_STARTS_S: tuple[int, ...] = (0, 8 * 3600, 16 * 3600)
SCAN_SECONDS: int = 5

# Per-sector loadings: (factor beta, sector loading, idiosyncratic scale) relative to BTC.
_SECTOR_PARAMS: dict[str, tuple[float, float, float]] = {
    "major": (1.0, 0.3, 0.5),
    "exchange": (0.9, 0.5, 0.8),
    "l1": (1.25, 0.8, 1.2),
    "l2": (1.35, 0.9, 1.4),
    "defi": (1.35, 0.9, 1.5),
    "meme": (1.6, 1.1, 2.0),
    "gaming": (1.3, 0.9, 1.6),
    "infra": (1.25, 0.8, 1.4),
    "pow": (1.0, 0.7, 1.0),
    "ai": (1.5, 1.0, 1.8),
}
_REG_LOAD = np.array([1.0, 1.8, 0.45])
_REG_IDIO = np.array([1.0, 0.7, 1.3])
_REG_MEAN_SCANS = np.array([60 * 12, 25 * 12, 20 * 12], dtype=np.float64)


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of the synthetic market (defaults = the gold window, 48 assets)."""

    start: date = DEFAULT_START
    days: int = DEFAULT_DAYS
    n_assets: int = 48
    seed: int = 42
    scans_per_day: int = 6200
    scans_jitter: int = 60
    burn_in: int = 800
    ob_every: int = 12
    windows: tuple[int, ...] = DEFAULT_WINDOWS
    cascade_rate: float = 0.6
    cascade_len: int = 36
    mr_threshold: float = -0.03
    mr_prob: float = 0.8
    mr_amp_lo: float = 0.006
    mr_amp_hi: float = 0.016
    mr_horizon: int = 60
    mr_payback: int = 720
    calibration: Calibration = field(default=DEFAULT_CALIBRATION)

    def __post_init__(self) -> None:
        if not 2 <= self.n_assets <= len(ASSETS):
            raise ValueError(f"n_assets must be in 2..{len(ASSETS)}, got {self.n_assets}")
        if self.days < 1:
            raise ValueError(f"days must be >= 1, got {self.days}")
        if self.scans_per_day < 10 or self.scans_jitter < 0 or self.scans_jitter >= self.scans_per_day:
            raise ValueError("scans_per_day must be >= 10 and scans_jitter in [0, scans_per_day)")
        if self.ob_every < 1:
            raise ValueError(f"ob_every must be >= 1, got {self.ob_every}")

    @property
    def symbols(self) -> tuple[str, ...]:
        """The assets used: the first ``n_assets`` of the universe by liquidity rank, sorted."""
        return select_assets(self.n_assets)

    @property
    def dates(self) -> list[str]:
        """The window's dates as ``YYYY-MM-DD``."""
        return [(self.start + timedelta(days=d)).isoformat() for d in range(self.days)]

    def fingerprint(self) -> dict:
        """JSON-able description used to detect a catalog built with other parameters."""
        return {
            "generator": "nautilus_dolphin.data.synth/1",
            "start": self.start.isoformat(),
            "days": self.days,
            "n_assets": self.n_assets,
            "seed": self.seed,
            "scans_per_day": self.scans_per_day,
            "ob_every": self.ob_every,
            "scans_jitter": self.scans_jitter,
        }


_PRIORITY = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT")


def select_assets(n: int) -> tuple[str, ...]:
    """Return ``n`` universe symbols (majors first, then alphabetical), sorted alphabetically."""
    order = list(_PRIORITY) + [a for a in ASSETS if a not in _PRIORITY]
    return tuple(sorted(order[:n]))


@dataclass
class SynthDay:
    """One generated day: the vbt_cache frame, its OB snapshots (long form) and diagnostics."""

    date: str
    frame: pd.DataFrame
    ob: pd.DataFrame
    crash_starts: np.ndarray
    mr_triggers: int


@njit(cache=True)
def _gen_block(
    T, lp, vstate, reg, mr, mr_drift, debt, z_f, z_s, z_e, eta, u_reg, u_mr, sec, b, g, e, vs, sigma_f,
    vol_params, casc_drift, casc_vol, mr_params,
    windows, lp_prev, ring, meta, S1, S2, shift, since, vec, lam_prev, work, tol, max_iter,
    out_prices, out_feat, out_vm, ticks, write,
):
    """Generate ``T`` scans with the online scanner in the loop (see module docstring)."""
    N = lp.shape[0]
    K = windows.shape[0]
    phi_f, phi_s, sd_f, sd_s = vol_params[0], vol_params[1], vol_params[2], vol_params[3]
    var_h = sd_f * sd_f + sd_s * sd_s
    thr, prob, amp_lo, amp_hi, horizon = mr_params[0], mr_params[1], mr_params[2], mr_params[3], mr_params[4]
    pay_rate = 1.0 / mr_params[5]
    px = np.empty(N)
    feat = np.empty(2 * K + 3)
    mr_count = 0
    for t in range(T):
        # volatility state
        vstate[0] = phi_f * vstate[0] + math.sqrt(1 - phi_f * phi_f) * sd_f * eta[t, 0]
        vstate[1] = phi_s * vstate[1] + math.sqrt(1 - phi_s * phi_s) * sd_s * eta[t, 1]
        m = math.exp(vstate[0] + vstate[1] - var_h) * casc_vol[t]
        # regime switch
        r0 = reg[0]
        if u_reg[t, 0] < 1.0 / (60.0 * 12.0 if r0 == 0 else (25.0 * 12.0 if r0 == 1 else 20.0 * 12.0)):
            if r0 == 0:
                reg[0] = 1 if u_reg[t, 1] < 0.5 else 2
            else:
                reg[0] = 0
        rg = reg[0]
        load = 1.0 if rg == 0 else (1.8 if rg == 1 else 0.45)
        idio = 1.0 if rg == 0 else (0.7 if rg == 1 else 1.3)
        for i in range(N):
            ri = m * sigma_f * (b[i] * load * z_f[t] + g[i] * z_s[t, sec[i]] + e[i] * idio * z_e[t, i])
            ri += casc_drift[t, i]
            if mr[0] > 0:
                ri += mr_drift[i]
            # payback: the rebound's displacement is repaid by a slow exponential drift
            pay = debt[i] * pay_rate
            debt[i] -= pay
            ri -= pay
            lp[i] += ri
            p = math.exp(lp[i])
            if ticks[i] > 0:
                p = round(p / ticks[i]) * ticks[i]
                if p <= 0:
                    p = ticks[i]
            px[i] = p
        if mr[0] > 0:
            mr[0] -= 1
        scanner_step(
            px, windows, lp_prev, ring, meta, S1, S2, shift, since, vec, lam_prev, work, feat, tol, max_iter
        )
        vd = feat[2 * K + 2]
        if mr[0] <= 0 and math.isfinite(vd) and vd < thr and u_mr[t, 0] < prob:
            scale = min(vd / thr, 2.5)
            amp = (amp_lo + (amp_hi - amp_lo) * u_mr[t, 1]) * scale
            for i in range(N):
                mr_drift[i] = amp * vs[i] / horizon
                debt[i] += amp * vs[i]
            mr[0] = horizon
            mr_count += 1
        if write:
            for i in range(N):
                out_prices[t, i] = px[i]
            for j in range(2 * K + 3):
                out_feat[t, j] = feat[j]
            out_vm[t] = m
    return mr_count


class SyntheticMarket:
    """Stateful generator: call ``next_day()`` repeatedly, or iterate ``days()``."""

    def __init__(self, config: SynthConfig | None = None) -> None:
        self.config = cfg = config or SynthConfig()
        self.symbols = cfg.symbols
        N = len(self.symbols)
        specs = [UNIVERSE[s] for s in self.symbols]
        sectors = sorted({s.sector for s in specs})
        self._sec = np.array([sectors.index(s.sector) for s in specs], dtype=np.int64)
        self._n_sec = len(sectors)
        rng0 = np.random.default_rng([cfg.seed, 10_000_019])
        par = np.array([_SECTOR_PARAMS.get(s.sector, (1.2, 0.8, 1.3)) for s in specs])
        jitter = rng0.uniform(0.9, 1.1, size=(N, 3))
        self._b, self._g, self._e = (par * jitter).T.copy()
        for i, s in enumerate(self.symbols):
            if s == "BTCUSDT":
                self._b[i], self._g[i], self._e[i] = 1.0, 0.3, 0.5
        cal = cfg.calibration
        self._sigma_f = cal.sigma_5s / math.sqrt(1.0 + 0.3**2 + 0.5**2)
        tot = np.sqrt(self._b**2 + self._g**2 + self._e**2)
        self._vs = tot / tot.mean()
        self._ticks = np.array([s.tick_size for s in specs])
        self._lp = np.log(np.array([s.ref_price for s in specs]) * rng0.uniform(0.97, 1.03, size=N))
        scans_per_min = 12.0
        hl_f = cal.vol_halflife_fast_min * scans_per_min
        hl_s = cal.vol_halflife_slow_min * scans_per_min
        self._vol_params = np.array([0.5 ** (1 / hl_f), 0.5 ** (1 / hl_s), cal.vol_sd_fast, cal.vol_sd_slow])
        self._vstate = np.zeros(2)
        self._reg = np.zeros(1, dtype=np.int64)
        self._mr = np.zeros(1, dtype=np.int64)
        self._mr_drift = np.zeros(N)
        self._debt = np.zeros(N)
        self._mr_params = np.array(
            [cfg.mr_threshold, cfg.mr_prob, cfg.mr_amp_lo, cfg.mr_amp_hi, float(cfg.mr_horizon),
             float(cfg.mr_payback)]
        )
        self._t_scale = math.sqrt((cal.t_df - 2.0) / cal.t_df)
        self.scanner = EigenScanner(N, cfg.windows)
        self._book_base = base_notional(self.symbols)
        self._imb = np.zeros(N)
        self._day = 0
        self._scan_number = 0
        self._burned = False

    # -- random inputs -----------------------------------------------------------------------
    def _t(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        return rng.standard_t(self.config.calibration.t_df, size=size) * self._t_scale

    def _run(self, rng: np.random.Generator, T: int, write: bool, casc_drift=None, casc_vol=None):
        N = len(self.symbols)
        z_f = self._t(rng, (T,))
        z_s = self._t(rng, (T, self._n_sec))
        z_e = self._t(rng, (T, N))
        eta = rng.standard_normal((T, 2))
        u_reg = rng.random((T, 2))
        u_mr = rng.random((T, 2))
        if casc_drift is None:
            casc_drift = np.zeros((T, N))
            casc_vol = np.ones(T)
        out_p = np.empty((T if write else 1, N))
        out_f = np.empty((T if write else 1, self.scanner.n_out))
        out_vm = np.empty(T if write else 1)
        sc = self.scanner
        n_mr = _gen_block(
            T, self._lp, self._vstate, self._reg, self._mr, self._mr_drift, self._debt, z_f, z_s, z_e, eta, u_reg, u_mr,
            self._sec, self._b, self._g, self._e, self._vs, self._sigma_f, self._vol_params, casc_drift,
            casc_vol, self._mr_params, sc.windows, sc.lp_prev, sc.ring, sc.meta, sc.S1, sc.S2, sc.shift,
            sc.since, sc.vec, sc.lam_prev, sc.work, sc.tol, sc.max_iter, out_p, out_f, out_vm, self._ticks,
            write,
        )
        return out_p, out_f, out_vm, n_mr

    def _burn_in(self) -> None:
        if not self._burned:
            rng = np.random.default_rng([self.config.seed, 999_999])
            self._run(rng, self.config.burn_in, write=True)
            self._burned = True

    def _cascades(self, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        N = len(self.symbols)
        n = rng.poisson(cfg.cascade_rate)
        lo, hi = 200, max(201, T - cfg.cascade_len - 200)
        starts = np.sort(rng.integers(lo, hi, size=n)) if n else np.zeros(0, dtype=np.int64)
        drift = np.zeros((T, N))
        vol = np.ones(T)
        alt = np.where(np.isin(np.array(self.symbols), _PRIORITY), 1.0, 1.5)
        L = cfg.cascade_len
        for c in starts:
            size = rng.uniform(0.015, 0.05)
            per = -size * self._b * alt / L
            drift[c : c + L] += per
            vol[c : c + L] *= 3.0
            # full retracement: 40 % over 120 scans, the remaining 60 % over the next 600
            for a, b_, frac in ((c + L, c + L + 120, 0.4), (c + L + 120, c + L + 720, 0.6)):
                b_ = min(b_, T)
                if b_ > a:
                    drift[a:b_] += -frac * per * L / (120 if frac == 0.4 else 600)
        return starts, drift, vol

    def next_day(self) -> SynthDay:
        """Generate the next day of the window."""
        cfg = self.config
        if self._day >= cfg.days:
            raise StopIteration("window exhausted")
        self._burn_in()
        d = self._day
        rng = np.random.default_rng([cfg.seed, d])
        T = int(cfg.scans_per_day + rng.integers(-cfg.scans_jitter, cfg.scans_jitter + 1))
        starts, cdrift, cvol = self._cascades(rng, T)
        prices, feat, vm, n_mr = self._run(rng, T, True, cdrift, cvol)
        day_str = cfg.dates[d]
        ts = _day_timestamps_ns(day_str, T)
        K = len(cfg.windows)
        cols: dict[str, np.ndarray] = {
            TIMESTAMP_COL: pd.to_datetime(ts, unit="ns"),
            SCAN_NUMBER_COL: np.arange(self._scan_number + 1, self._scan_number + T + 1, dtype=np.int64),
            VEL_DIV_COL: feat[:, 2 * K + 2],
        }
        for k, c in enumerate(VELOCITY_COLS):
            cols[c] = feat[:, K + k]
        for k, c in enumerate(INSTABILITY_COLS):
            cols[c] = feat[:, 2 * K + k]
        for i, s in enumerate(self.symbols):
            cols[s] = prices[:, i]
        frame = pd.DataFrame(cols)
        thin = thinning_profile(T, starts, cfg.cascade_len)
        book = book_snapshots(prices, vm, thin, self._ticks, self._book_base, self._imb, rng, cfg.ob_every)
        ob = ob_frame(book, ts, self.symbols)
        self._scan_number += T
        self._day += 1
        return SynthDay(day_str, frame, ob, starts, n_mr)

    def days(self) -> Iterator[SynthDay]:
        """Iterate the remaining days."""
        while self._day < self.config.days:
            yield self.next_day()


def _day_timestamps_ns(day_str: str, T: int) -> np.ndarray:
    """Scan timestamps (int64 ns UTC) of a day: three sessions of consecutive 5 s scans."""
    base = pd.Timestamp(day_str, tz="UTC").value
    per = [T // 3 + (1 if k < T % 3 else 0) for k in range(3)]
    parts = [
        base + (s0 + np.arange(n, dtype=np.int64) * SCAN_SECONDS) * 1_000_000_000
        for s0, n in zip(SESSION_STARTS_S, per)
    ]
    return np.concatenate(parts)


OB_VALUE_COLS: tuple[str, ...] = tuple(
    f"{side}_{kind}_{k}" for side, kind in (("bid", "notional"), ("ask", "notional"), ("bid", "depth"),
                                            ("ask", "depth")) for k in range(N_LEVELS)
)
"""Value columns of a vbt_cache/ob file, in file order (after ``timestamp`` and ``asset``)."""


def ob_frame(book: dict[str, np.ndarray], ts_ns: np.ndarray, symbols: tuple[str, ...]) -> pd.DataFrame:
    """Turn ``book_snapshots`` output into the contract's long OB frame (sorted by ts, asset)."""
    cols: dict[str, np.ndarray] = {
        "timestamp": ts_ns[book["scan_idx"]].astype(np.int64),
        "asset": np.asarray(symbols, dtype=object)[book["asset_idx"]],
    }
    for name in ("bid_notional", "ask_notional", "bid_depth", "ask_depth"):
        for k in range(N_LEVELS):
            cols[f"{name}_{k}"] = book[name][:, k]
    return pd.DataFrame(cols)


def write_vbt_day(day: SynthDay, out_dir: str | Path) -> tuple[Path, Path | None]:
    """Write a day's vbt_cache file (and ``ob/`` file) atomically (temp name, then rename)."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{day.date}.parquet"
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pandas(day.frame, preserve_index=False), tmp)
    os.replace(tmp, path)
    ob_path = None
    if day.ob is not None and len(day.ob):
        ob_dir = out / "ob"
        ob_dir.mkdir(exist_ok=True)
        ob_path = ob_dir / f"{day.date}.parquet"
        tmp = ob_path.with_name(ob_path.name + ".tmp")
        pq.write_table(pa.Table.from_pandas(day.ob, preserve_index=False), tmp)
        os.replace(tmp, ob_path)
    return path, ob_path
