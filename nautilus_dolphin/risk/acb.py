"""ACBv6: the adaptive circuit breaker's per-day base boost and amplitude beta (spec 001 §3, §5).

The engine asks the breaker once per day, in ``begin_day``, for

- ``boost`` (>= 1.0): the day's ``regime_size_mult`` in the leverage clamp
  ``min(base_max * regime_size_mult * market_ob_mult, abs_max)``;
- ``beta`` (>= 0): the day's amplitude regime, used by the adaptive boost layer as
  ``alpha_eff = alpha * (1 + day_beta)``.

Definition (the spec leaves it open; this is the project's, also in ``docs/engine.md``)
-----------------------------------------------------------------------------------------
Each preloaded day ``d`` is reduced, when it is read, to three statistics (its frame is then
dropped, so a window is streamed, never held):

- ``amp``  = median of ``|v750_lambda_max_velocity|`` (the w750 amplitude),
- ``inst`` = mean of ``instability_50`` (eigenspace stress),
- ``rvol`` = population std of the reference asset's (BTCUSDT) simple scan-to-scan returns
  (realised volatility; only pairs of consecutive finite, positive prices).

Non-finite values are ignored; a statistic with no usable value is missing (NaN) for that day.

For day ``D`` at position ``i`` of the preloaded, date-sorted list, only days strictly before it
are used (no look-ahead): the previous day ``P = i-1`` is compared with a trailing baseline of
the ``baseline_days`` days before ``P`` (positions ``max(0, i-1-baseline_days) .. i-2``). For each
statistic ``k`` with a finite value on ``P`` and at least ``min_baseline_days`` finite baseline
values::

    mu_k, sd_k = mean, population std of the baseline values
    sd_eff     = max(sd_k, rel_std_floor * |mu_k|, 1e-12)
    z_k        = (x_k(P) - mu_k) / sd_eff
    s_k        = clip(z_k / z_full, 0, 1)            # a +z_full sigma excursion is a full signal

and ``s_k = 0`` otherwise. Then::

    stress = (w_amp*s_amp + w_inst*s_inst + w_rvol*s_rvol) / (w_amp + w_inst + w_rvol)
    boost  = 1 + (max_boost - 1) * stress            # 1.0 .. max_boost (1.6)
    beta   = beta_max * s_amp                        # 0 .. beta_max

A day whose previous day is stressed relative to its recent past gets a larger size multiplier:
the engine is a long mean-reversion strategy whose edge grows with dislocation, while the
liquidation guard and the MC-Forewarner bound the tail. Days with fewer than
``min_baseline_days + 1`` preloaded days before them are neutral (``boost = 1``, ``beta = 0``), as
is any date that was not preloaded (counted in ``unknown_days``).
"""

import math
import os
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date as _date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

V750_COL: str = "v750_lambda_max_velocity"
INST50_COL: str = "instability_50"
STAT_NAMES: tuple[str, ...] = ("amp", "inst", "rvol")
"""The per-day statistics, in signal order."""

DayLoader = Callable[[str], "pd.DataFrame | None"]
"""``loader(date_str)`` returns that day's scan frame (vbt_cache layout), or None if the day is missing."""


@dataclass(frozen=True)
class ACBConfig:
    """Parameters of the ACBv6 boost/beta definition (see the module docstring).

    Parameters
    ----------
    baseline_days : int
        Trailing days before the previous day that form the baseline (default 7).
    min_baseline_days : int
        Fewest finite baseline values a statistic needs to signal; days with fewer preloaded days
        before them are neutral (default 3).
    z_full : float
        z-score of the previous day against the baseline that counts as a full signal (2.0).
    max_boost : float
        Boost at full stress (1.6, the top of DOLPHIN's typical 1.0-1.6 range).
    beta_max : float
        Beta at a full amplitude signal (1.0: ``alpha_eff`` doubles).
    weight_amp, weight_inst, weight_rvol : float
        Weights of the three signals in ``stress``.
    rel_std_floor : float
        Floor on the baseline std relative to ``|mean|`` (keeps a flat baseline from turning noise
        into a full signal).
    reference_asset : str
        Price column whose realised volatility is ``rvol``.
    """

    baseline_days: int = 7
    min_baseline_days: int = 3
    z_full: float = 2.0
    max_boost: float = 1.6
    beta_max: float = 1.0
    weight_amp: float = 1.0
    weight_inst: float = 1.0
    weight_rvol: float = 1.0
    rel_std_floor: float = 0.05
    reference_asset: str = "BTCUSDT"

    def __post_init__(self) -> None:
        if self.min_baseline_days < 1:
            raise ValueError(f"ACBConfig.min_baseline_days must be >= 1, got {self.min_baseline_days}")
        if self.baseline_days < self.min_baseline_days:
            raise ValueError(
                f"ACBConfig.baseline_days ({self.baseline_days}) must be >= min_baseline_days "
                f"({self.min_baseline_days})"
            )
        for name in ("z_full", "max_boost", "beta_max", "rel_std_floor"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"ACBConfig.{name} must be finite, got {v}")
        if self.z_full <= 0:
            raise ValueError(f"ACBConfig.z_full must be > 0, got {self.z_full}")
        if self.max_boost < 1.0:
            raise ValueError(f"ACBConfig.max_boost must be >= 1.0, got {self.max_boost}")
        if self.beta_max < 0 or self.rel_std_floor < 0:
            raise ValueError("ACBConfig.beta_max and rel_std_floor must be >= 0")
        weights = (self.weight_amp, self.weight_inst, self.weight_rvol)
        if any((not math.isfinite(w)) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"ACBConfig weights must be finite, >= 0 and not all zero, got {weights}")


@dataclass(frozen=True)
class ACBDay:
    """The breaker's output for one day.

    ``boost`` is the day's ``regime_size_mult`` (>= 1.0), ``beta`` the amplitude regime (>= 0),
    ``signals`` the inputs and intermediate values that produced them (all finite floats; keys
    that could not be computed are absent), ``neutral`` whether the day had no usable history.
    """

    date: str
    boost: float = 1.0
    beta: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    neutral: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.boost) and self.boost >= 1.0):
            raise ValueError(f"ACBDay {self.date}: boost must be finite and >= 1.0, got {self.boost}")
        if not (math.isfinite(self.beta) and self.beta >= 0.0):
            raise ValueError(f"ACBDay {self.date}: beta must be finite and >= 0, got {self.beta}")


def _check_date(date_str: str) -> str:
    try:
        _date.fromisoformat(date_str)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ACB: date must be 'YYYY-MM-DD', got {date_str!r}") from exc
    if len(date_str) != 10:
        raise ValueError(f"ACB: date must be 'YYYY-MM-DD', got {date_str!r}")
    return date_str


def day_statistics(
    df: pd.DataFrame, reference_asset: str = "BTCUSDT", *, date_str: str = "?"
) -> dict[str, float]:
    """Reduce one day's scan frame to its ACB statistics ``amp``, ``inst``, ``rvol`` (NaN = unusable).

    Raises
    ------
    ValueError
        If a required column (``v750_lambda_max_velocity``, ``instability_50`` or the reference
        asset) is missing, naming the day and the column.
    """
    for col in (V750_COL, INST50_COL, reference_asset):
        if col not in df.columns:
            raise ValueError(f"ACB: day {date_str}: scan frame has no column {col!r}")
    v750 = pd.to_numeric(df[V750_COL], errors="coerce").to_numpy(dtype=np.float64)
    v750 = v750[np.isfinite(v750)]
    inst = pd.to_numeric(df[INST50_COL], errors="coerce").to_numpy(dtype=np.float64)
    inst = inst[np.isfinite(inst)]
    px = pd.to_numeric(df[reference_asset], errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(px) & (px > 0)
    pair = ok[1:] & ok[:-1]
    rets = px[1:][pair] / px[:-1][pair] - 1.0
    return {
        "amp": float(np.median(np.abs(v750))) if v750.size else math.nan,
        "inst": float(np.mean(inst)) if inst.size else math.nan,
        "rvol": float(np.std(rets)) if rets.size >= 2 else math.nan,
    }


def vbt_cache_loader(
    root: str | os.PathLike[str] | None = None, reference_asset: str = "BTCUSDT"
) -> DayLoader:
    """Return a loader reading ``<root>/vbt_cache/YYYY-MM-DD.parquet`` (only the columns the ACB needs).

    ``root`` defaults to ``$DOLPHIN_CATALOG`` or ``catalog`` under the current directory.
    A missing file raises ``FileNotFoundError`` naming the path.
    """
    base = Path(root if root is not None else os.environ.get("DOLPHIN_CATALOG", "catalog"))

    def load(date_str: str) -> pd.DataFrame:
        path = base / "vbt_cache" / f"{date_str}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"ACB: no vbt_cache file for {date_str}: {path}")
        try:
            return pd.read_parquet(path, columns=[V750_COL, INST50_COL, reference_asset])
        except (KeyError, ValueError) as exc:  # pyarrow reports a missing column as one of these
            raise ValueError(
                f"ACB: {path}: cannot read columns {V750_COL}, {INST50_COL}, {reference_asset}: {exc}"
            ) from exc

    return load


class AdaptiveCircuitBreaker:
    """ACBv6: per-day base boost and amplitude beta from days strictly before the day (no look-ahead).

    Use ``preload_w750(date_strings, loader)`` once for a window (each day is read once and reduced
    to three numbers), or ``add_day`` day by day in live use, then ``get_day(date_str)``.
    """

    def __init__(self, config: ACBConfig | None = None) -> None:
        self.config: ACBConfig = config if config is not None else ACBConfig()
        self._dates: list[str] = []
        self._index: dict[str, int] = {}
        self._stats: list[dict[str, float]] = []
        self._cache: dict[str, ACBDay] = {}
        self.unknown_days: int = 0
        """Number of ``get_day`` calls for a date that was never preloaded (answered neutral)."""
        self.missing_days: int = 0
        """Number of preloaded days whose loader returned None (all statistics missing)."""
        self.bad_days: int = 0
        """Number of preloaded days with at least one statistic missing (no finite input)."""

    # ----------------------------------------------------------------------------- loading
    def preload_w750(self, date_strings: Iterable[str], loader: DayLoader | None = None) -> None:
        """Read each day once (in date order) and keep only its statistics; replaces prior state.

        Parameters
        ----------
        date_strings : iterable of str
            The window's days, ``YYYY-MM-DD``; sorted here; duplicates are an error.
        loader : callable, optional
            ``loader(date_str) -> DataFrame | None``; default reads the vbt_cache parquet files
            (:func:`vbt_cache_loader`).
        """
        dates = [_check_date(d) for d in date_strings]
        if len(set(dates)) != len(dates):
            dup = sorted({d for d in dates if dates.count(d) > 1})
            raise ValueError(f"ACB.preload_w750: duplicate dates {dup}")
        if loader is None:
            loader = vbt_cache_loader(reference_asset=self.config.reference_asset)
        self._dates, self._index, self._stats, self._cache = [], {}, [], {}
        self.missing_days = self.bad_days = 0
        for d in sorted(dates):
            self.add_day(d, loader(d))

    def add_day(self, date_str: str, df: pd.DataFrame | None) -> None:
        """Append one day's statistics (``df`` None = missing day); dates must strictly increase."""
        _check_date(date_str)
        if self._dates and date_str <= self._dates[-1]:
            raise ValueError(f"ACB.add_day: {date_str} is not after the last known day {self._dates[-1]}")
        if df is None:
            stats = {k: math.nan for k in STAT_NAMES}
            self.missing_days += 1
        else:
            stats = day_statistics(df, self.config.reference_asset, date_str=date_str)
        if any(not math.isfinite(v) for v in stats.values()):
            self.bad_days += 1
        self._index[date_str] = len(self._dates)
        self._dates.append(date_str)
        self._stats.append(stats)

    @property
    def dates(self) -> tuple[str, ...]:
        """The preloaded days, in order."""
        return tuple(self._dates)

    def statistics(self, date_str: str) -> dict[str, float]:
        """Return a copy of a preloaded day's own statistics (used for the days AFTER it)."""
        return dict(self._stats[self._index[date_str]])

    # ----------------------------------------------------------------------------- queries
    def get_day(self, date_str: str) -> ACBDay:
        """Return the day's boost and beta, computed from preloaded days strictly before it."""
        i = self._index.get(date_str)
        if i is None:
            self.unknown_days += 1
            return ACBDay(date=str(date_str), signals={"unknown": 1.0})
        cached = self._cache.get(date_str)
        if cached is None:
            cached = self._compute(i)
            self._cache[date_str] = cached
        return cached

    def get_dynamic_boost_for_date(self, date_str: str) -> dict[str, Any]:
        """DOLPHIN-compatible view of :meth:`get_day`: ``{'boost', 'beta', 'signals'}``."""
        day = self.get_day(date_str)
        return {"boost": day.boost, "beta": day.beta, "signals": dict(day.signals)}

    def _compute(self, i: int) -> ACBDay:
        cfg = self.config
        date_str = self._dates[i]
        if i < cfg.min_baseline_days + 1:
            return ACBDay(date=date_str, signals={"warmup": 1.0})
        prev = self._stats[i - 1]
        base = self._stats[max(0, i - 1 - cfg.baseline_days) : i - 1]
        signals: dict[str, float] = {}
        strength: dict[str, float] = {}
        for k in STAT_NAMES:
            x = prev[k]
            vals = np.array([b[k] for b in base], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if not math.isfinite(x) or vals.size < cfg.min_baseline_days:
                strength[k] = 0.0
                continue
            mu = float(np.mean(vals))
            sd = float(np.std(vals))
            sd_eff = max(sd, cfg.rel_std_floor * abs(mu), 1e-12)
            z = (x - mu) / sd_eff
            s = min(max(z / cfg.z_full, 0.0), 1.0)
            strength[k] = s
            signals.update({f"{k}_prev": x, f"{k}_mean": mu, f"{k}_std": sd, f"z_{k}": z, f"s_{k}": s})
        w = {"amp": cfg.weight_amp, "inst": cfg.weight_inst, "rvol": cfg.weight_rvol}
        stress = sum(w[k] * strength[k] for k in STAT_NAMES) / sum(w.values())
        boost = 1.0 + (cfg.max_boost - 1.0) * stress
        beta = cfg.beta_max * strength["amp"]
        signals["stress"] = stress
        signals["baseline_days"] = float(len(base))
        return ACBDay(date=date_str, boost=boost, beta=beta, signals=signals, neutral=False)
