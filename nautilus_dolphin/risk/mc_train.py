"""Train the MC-Forewarner: Monte-Carlo runs of the engine around ``MC_BASE_CFG`` -> JSON model.

Pipeline (``train_forewarner``)
-------------------------------
1. ``sample_configs(n, seed)``: ``n`` engine configurations around ``MC_BASE_CFG`` drawn by a
   seeded ``numpy.random.default_rng`` from :data:`SAMPLING_SPACE` (uniform ranges; two features
   are drawn as ratios so every configuration is valid: ``abs_max_leverage = max_leverage * U``,
   ``vel_div_extreme = vel_div_threshold * U``; ``max_hold_bars`` is an integer).
2. ``simulate(config) -> {"roi", "max_dd", "trades"}`` for each: ROI and max drawdown as
   fractions of starting capital (``0.18`` = 18 %). A run with a non-finite or out-of-range result
   is skipped and counted in ``metadata.n_skipped``; an exception aborts training, naming the run.
3. Fit on the standardised features ``z``: the Gaussian envelope (mean, precision = inverse of the
   covariance + ``ENVELOPE_RIDGE`` I, thresholds at the chi-square 0.99 / 0.999 quantiles of
   ``p`` degrees of freedom), ridge regressions of ``max_dd`` and ``roi`` and a logistic model of
   "catastrophic" (``max_dd >= 0.40`` or ``roi <= -0.30``) on ``phi(z) = [z, z^2]``. When the runs
   contain one class only, the logistic model is the constant ``logit((k + 0.5) / (n + 1))``.
4. Write the JSON document (``forewarner`` module docstring) with metadata: date, n, seed,
   feature names, sampler, the simulator's description, the data window, the base configuration's
   own assessment.

scikit-learn is used for fitting only; the exported model is plain numbers.

The default simulator (:class:`EngineWindowSimulator`) runs the standalone harness
(``backtest.harness.run_backtest``) with ``NDAlphaEngine`` (plain engine, caps taken from the
configuration) over a short synthetic DOLPHIN-format window (:func:`synthetic_window`) with the
gold vol_p60 filter; ``max_dd`` is the per-trade equity drawdown, since a few days give too
coarse a daily curve.
"""

import datetime as _dt
import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Protocol

import numpy as np
import pandas as pd

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.risk.forewarner import BASIS
from nautilus_dolphin.risk.forewarner import SCHEMA_NAME
from nautilus_dolphin.risk.forewarner import SCHEMA_VERSION
from nautilus_dolphin.risk.forewarner import DolphinForewarner
from nautilus_dolphin.risk.forewarner import default_model_path
from nautilus_dolphin.risk.forewarner import write_model

FEATURE_NAMES: tuple[str, ...] = (
    "max_leverage",
    "abs_max_leverage",
    "min_leverage",
    "fraction",
    "vel_div_threshold",
    "vel_div_extreme",
    "fixed_tp_pct",
    "max_hold_bars",
    "leverage_convexity",
)
"""The engine parameters the forewarner is shown (in model order)."""

SAMPLING_SPACE: dict[str, tuple[str, float, float]] = {
    "max_leverage": ("uniform", 1.0, 9.0),
    "abs_max_leverage": ("ratio_of:max_leverage", 1.0, 1.6),
    "min_leverage": ("uniform", 0.25, 1.0),
    "fraction": ("uniform", 0.05, 0.40),
    "vel_div_threshold": ("uniform", -0.040, -0.010),
    "vel_div_extreme": ("ratio_of:vel_div_threshold", 1.5, 4.0),
    "fixed_tp_pct": ("uniform", 0.004, 0.020),
    "max_hold_bars": ("integer", 40, 300),
    "leverage_convexity": ("uniform", 1.0, 5.0),
}
"""feature -> (kind, lo, hi); drawn in this order, one ``rng`` call per feature per sample."""

DEFAULT_THRESHOLDS: dict[str, float] = {
    "orange_max_dd": 0.25,
    "orange_catastrophic_prob": 0.25,
    "red_catastrophic_prob": 0.50,
}
DEFAULT_CATASTROPHIC: dict[str, float] = {"max_dd_at_least": 0.40, "roi_at_most": -0.30}
ENVELOPE_QUANTILES: tuple[float, float] = (0.99, 0.999)
ENVELOPE_RIDGE: float = 1e-3
RIDGE_ALPHA: float = 1.0
LOGISTIC_C: float = 1.0


class Simulator(Protocol):
    """``simulate(config) -> {"roi": float, "max_dd": float, "trades": int}`` (fractions)."""

    def __call__(self, config: Mapping[str, float]) -> Mapping[str, float]: ...


# ----------------------------------------------------------------------------- sampling
def base_features(base: Mapping[str, Any] = MC_BASE_CFG) -> dict[str, float]:
    """Return the feature values of the base configuration as the engine shows them in ``begin_day``.

    ``abs_max_leverage`` is absent from ``MC_BASE_CFG``; the lever-swap shows it ``max_leverage``
    (5.0), which is used here.
    """
    out = {}
    for name in FEATURE_NAMES:
        if name in base:
            out[name] = float(base[name])
        elif name == "abs_max_leverage":
            out[name] = float(base["max_leverage"])
        else:
            raise KeyError(f"base configuration lacks feature {name!r}")
    return out


def sample_configs(n: int, seed: int, base: Mapping[str, Any] = MC_BASE_CFG) -> list[dict[str, Any]]:
    """Draw ``n`` configurations: ``base`` with every feature of :data:`SAMPLING_SPACE` resampled."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        cfg: dict[str, Any] = dict(base)
        for name, (kind, lo, hi) in SAMPLING_SPACE.items():
            if kind == "uniform":
                cfg[name] = float(rng.uniform(lo, hi))
            elif kind == "integer":
                cfg[name] = int(rng.integers(int(lo), int(hi) + 1))
            elif kind.startswith("ratio_of:"):
                cfg[name] = float(cfg[kind.split(":", 1)[1]] * rng.uniform(lo, hi))
            else:  # pragma: no cover - guarded by the constant above
                raise ValueError(f"unknown sampling kind {kind!r} for {name}")
        out.append(cfg)
    return out


# ----------------------------------------------------------------------------- fitting
def _phi(z: np.ndarray) -> np.ndarray:
    return np.concatenate([z, z * z], axis=1)


def _check_result(i: int, res: Mapping[str, Any]) -> tuple[float, float, int] | str:
    try:
        roi, dd, trades = float(res["roi"]), float(res["max_dd"]), int(res["trades"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"simulation {i}: result must have numeric roi, max_dd, trades: {exc!r}") from exc
    if not (math.isfinite(roi) and math.isfinite(dd)):
        return "non_finite"
    if not (0.0 <= dd <= 1.0) or roi < -1.0:
        return "out_of_range"
    return roi, dd, trades


def fit_model(
    X: np.ndarray,
    max_dd: np.ndarray,
    roi: np.ndarray,
    *,
    feature_names: Sequence[str] = FEATURE_NAMES,
    defaults: Mapping[str, float] | None = None,
    thresholds: Mapping[str, float] | None = None,
    catastrophic: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Fit every model on raw features ``X`` (n x p) and outcomes; return the JSON document (no metadata)."""
    from scipy.stats import chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.linear_model import Ridge

    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    if n < 3:
        raise ValueError(f"need at least 3 usable simulations to fit, got {n}")
    names = list(feature_names)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = (X - mean) / scale
    env_mean = Z.mean(axis=0)
    cov = np.atleast_2d(np.cov(Z, rowvar=False, bias=True)) + ENVELOPE_RIDGE * np.eye(p)
    precision = np.linalg.inv(cov)
    precision = (precision + precision.T) / 2.0
    Phi = _phi(Z)
    regs = {}
    for key, y in (("max_dd", max_dd), ("roi", roi)):
        r = Ridge(alpha=RIDGE_ALPHA).fit(Phi, np.asarray(y, dtype=np.float64))
        regs[key] = {
            "kind": "ridge",
            "alpha": RIDGE_ALPHA,
            "intercept": float(r.intercept_),
            "coef": [float(c) for c in r.coef_],
        }
    cat_def = dict(DEFAULT_CATASTROPHIC if catastrophic is None else catastrophic)
    y_cat = (np.asarray(max_dd) >= cat_def["max_dd_at_least"]) | (np.asarray(roi) <= cat_def["roi_at_most"])
    k = int(y_cat.sum())
    if 0 < k < n:
        lr = LogisticRegression(C=LOGISTIC_C, max_iter=2000).fit(Phi, y_cat.astype(int))
        cat = {
            "kind": "logistic",
            "C": LOGISTIC_C,
            "intercept": float(lr.intercept_[0]),
            "coef": [float(c) for c in lr.coef_[0]],
        }
    else:
        rate = (k + 0.5) / (n + 1.0)
        cat = {
            "kind": "logistic_constant",
            "intercept": float(math.log(rate / (1.0 - rate))),
            "coef": [0.0] * (2 * p),
        }
    cat["definition"] = cat_def
    cat["positives"] = k
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "feature_names": names,
        "defaults": {nm: float(v) for nm, v in (defaults or dict(zip(names, mean.tolist()))).items()},
        "standardiser": {"mean": mean.tolist(), "scale": scale.tolist()},
        "envelope": {
            "kind": "mahalanobis",
            "mean": env_mean.tolist(),
            "precision": precision.tolist(),
            "quantiles": list(ENVELOPE_QUANTILES),
            "d2_orange": float(chi2.ppf(ENVELOPE_QUANTILES[0], p)),
            "d2_red": float(chi2.ppf(ENVELOPE_QUANTILES[1], p)),
        },
        "basis": BASIS,
        "max_dd": regs["max_dd"],
        "roi": regs["roi"],
        "catastrophic": cat,
        "thresholds": dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds),
    }


def train_forewarner(
    n: int,
    seed: int,
    simulate: Simulator,
    *,
    base: Mapping[str, Any] = MC_BASE_CFG,
    thresholds: Mapping[str, float] | None = None,
    catastrophic: Mapping[str, float] | None = None,
    window: Any = None,
    created: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Sample, simulate, fit; return the validated model document with its metadata.

    ``window`` defaults to ``simulate.window`` if the simulator has one; ``created`` to today's
    UTC date (pass a fixed value for byte-identical reruns).
    """
    configs = sample_configs(n, seed, base)
    rows: list[list[float]] = []
    dds: list[float] = []
    rois: list[float] = []
    trades: list[int] = []
    skipped: dict[str, int] = {"non_finite": 0, "out_of_range": 0}
    for i, cfg in enumerate(configs):
        try:
            res = simulate(cfg)
        except Exception as exc:
            raise RuntimeError(f"simulation {i} failed for config {_short(cfg)}: {exc}") from exc
        checked = _check_result(i, res)
        if isinstance(checked, str):
            skipped[checked] += 1
        else:
            rows.append([float(cfg[f]) for f in FEATURE_NAMES])
            rois.append(checked[0])
            dds.append(checked[1])
            trades.append(checked[2])
        if progress is not None:
            progress(i + 1, n)
    used = len(rows)
    if used < max(3, n // 2):
        raise RuntimeError(f"only {used} of {n} simulations gave usable results (skipped: {skipped})")
    model = fit_model(
        np.array(rows),
        np.array(dds),
        np.array(rois),
        defaults=base_features(base),
        thresholds=thresholds,
        catastrophic=catastrophic,
    )
    fw = DolphinForewarner.from_dict(model)
    base_assessment = fw.assess(base_features(base))
    model["metadata"] = {
        "created": created or _dt.datetime.now(_dt.UTC).date().isoformat(),
        "trainer": "nautilus_dolphin.risk.mc_train",
        "n": n,
        "n_used": used,
        "n_skipped": skipped,
        "seed": seed,
        "feature_names": list(FEATURE_NAMES),
        "sampler": {k: list(v) for k, v in SAMPLING_SPACE.items()},
        "simulator": str(getattr(simulate, "description", getattr(simulate, "__qualname__", repr(simulate)))),
        "window": window if window is not None else getattr(simulate, "window", None),
        "outcomes": {
            "max_dd": _summary(dds),
            "roi": _summary(rois),
            "trades": _summary([float(t) for t in trades]),
        },
        "base_assessment": base_assessment.to_dict(),
    }
    DolphinForewarner.from_dict(model)  # validate once more with metadata attached
    return model


def _summary(v: Sequence[float]) -> dict[str, float]:
    a = np.asarray(v, dtype=np.float64)
    return {"min": float(a.min()), "median": float(np.median(a)), "max": float(a.max())}


def _short(cfg: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{f}={cfg[f]:.6g}" for f in FEATURE_NAMES if f in cfg) + "}"


# ----------------------------------------------------------------------------- default simulator
def synthetic_window(
    days: int = 3, bars_per_day: int = 2000, seed: int = 11, start: str = "2026-01-01"
) -> list[tuple[str, pd.DataFrame]]:
    """Build a small DOLPHIN-format window: ``days`` frames of ``bars_per_day`` 5 s scans, 48 assets.

    ``vel_div`` is an AR(1) with occasional negative shocks; the market falls with a shock and
    tends to rebound after it (the mean reversion the engine trades), assets load on the market
    with betas 0.8-1.5 plus idiosyncratic noise. Deterministic under ``seed``. Only a training
    bed for the forewarner, not a market model (the data package owns that).
    """
    from nautilus_dolphin.data.universe import ASSETS
    from nautilus_dolphin.data.universe import UNIVERSE

    if days < 2 or bars_per_day < 200:
        raise ValueError("synthetic_window needs days >= 2 (vol_p60 uses two days) and bars_per_day >= 200")
    rng = np.random.default_rng(seed)
    n_a = len(ASSETS)
    betas = rng.uniform(0.8, 1.5, n_a)
    logp = np.log(np.array([UNIVERSE[a].ref_price for a in ASSETS]))
    d0 = _dt.date.fromisoformat(start)
    out = []
    x = 0.0
    scan = 0
    for d in range(days):
        date_str = (d0 + _dt.timedelta(days=d)).isoformat()
        vd = np.empty(bars_per_day)
        for t in range(bars_per_day):
            shock = -rng.uniform(0.02, 0.08) if rng.random() < 0.01 else 0.0
            x = 0.9 * x + 0.006 * rng.standard_normal() + shock
            vd[t] = x
        dvd = np.diff(vd, prepend=vd[0])
        m = 0.0004 * rng.standard_normal(bars_per_day) + 0.02 * np.minimum(dvd, 0.0)
        m[1:] += -0.02 * np.minimum(vd[:-1] + 0.02, 0.0)
        rets = betas[None, :] * m[:, None] + 0.0005 * rng.standard_normal((bars_per_day, n_a))
        lp = logp[None, :] + np.cumsum(rets, axis=0)
        logp = lp[-1]
        ts0 = _dt.datetime.combine(d0 + _dt.timedelta(days=d), _dt.time(), _dt.UTC).timestamp()
        frame = {
            "timestamp": ts0 + 5.0 * np.arange(bars_per_day),
            "scan_number": np.arange(scan, scan + bars_per_day, dtype=np.int64),
            "vel_div": vd,
            "v50_lambda_max_velocity": vd + 0.002 * rng.standard_normal(bars_per_day),
            "v150_lambda_max_velocity": 0.5 * vd + 0.002 * rng.standard_normal(bars_per_day),
            "v300_lambda_max_velocity": 0.25 * vd + 0.002 * rng.standard_normal(bars_per_day),
            "v750_lambda_max_velocity": 0.1 * vd + 0.002 * rng.standard_normal(bars_per_day),
            "instability_50": np.abs(0.02 + 0.01 * rng.standard_normal(bars_per_day)),
            "instability_150": np.abs(0.015 + 0.01 * rng.standard_normal(bars_per_day)),
        }
        scan += bars_per_day
        df = pd.DataFrame(frame)
        df = pd.concat([df, pd.DataFrame(np.exp(lp), columns=list(ASSETS))], axis=1)
        out.append((date_str, df))
    return out


class EngineWindowSimulator:
    """Default simulator: the standalone harness (``backtest.harness.run_backtest``) over a short window.

    Each call runs ``run_backtest`` with a fresh ``NDAlphaEngine(**{**ENGINE_KWARGS, **features})``
    (so the configuration's ``max_leverage`` and ``abs_max_leverage`` are the caps), the gold
    vol_p60 filter, no ACB (the forewarner scores the configuration, not the day's regime) and no
    forewarner. By default there is no OB engine either (the engine's seeded OB gate at
    ``ob_confirm_rate`` applies): the mock OB preload costs ~1 s per run on 3 days of 48 assets,
    two orders of magnitude more than the engine itself. Returns ``roi`` (final / initial - 1) and
    ``max_dd`` (per-trade equity drawdown) as fractions.

    Parameters
    ----------
    days : sequence of (date_str, DataFrame), optional
        The window; default :func:`synthetic_window` (``n_days`` x ``bars_per_day``, ``data_seed``).
    ob_engine : optional
        Passed to ``run_backtest``: False (default) = the engine's seeded OB gate, None = the
        harness default (the gold MockOBProvider), or an OB feature engine.
    """

    def __init__(
        self,
        days: Sequence[tuple[str, pd.DataFrame]] | None = None,
        *,
        n_days: int = 3,
        bars_per_day: int = 2000,
        data_seed: int = 11,
        ob_engine: Any = False,
    ) -> None:
        from nautilus_dolphin.data.schema import asset_columns
        from nautilus_dolphin.data.volatility import dvol_per_bar
        from nautilus_dolphin.data.volatility import gold_vol_p60

        synthetic = days is None
        frames = list(days) if days is not None else synthetic_window(n_days, bars_per_day, data_seed)
        btc = [df["BTCUSDT"].to_numpy(np.float64) for _, df in frames]
        self.vol_p60 = gold_vol_p60(btc)
        self.days = [
            (d, df, asset_columns(list(df.columns)), dvol_per_bar(b)) for (d, df), b in zip(frames, btc)
        ]
        self.ob_engine = ob_engine
        dates = [d for d, _ in frames]
        self.window = {
            "source": "synthetic" if synthetic else "frames",
            "days": dates,
            "bars": int(sum(len(df) for _, df in frames)),
            "data_seed": data_seed if synthetic else None,
            "vol_p60": self.vol_p60,
        }
        if ob_engine is False:
            ob = "seeded OB gate"
        elif ob_engine is None:
            ob = "harness mock OB engine"
        else:
            ob = f"OB engine {type(ob_engine).__name__}"
        self.window["ob"] = ob
        self.description = (
            f"EngineWindowSimulator: backtest.harness.run_backtest of NDAlphaEngine(ENGINE_KWARGS + sampled "
            f"features) over {len(dates)} {'synthetic ' if synthetic else ''}days ({dates[0]}..{dates[-1]}, "
            f"{self.window['bars']} bars), gold vol_p60, {ob}, no ACB; roi = final/initial - 1, "
            f"max_dd = per-trade equity drawdown (fractions)"
        )

    def __call__(self, config: Mapping[str, float]) -> dict[str, float]:
        from nautilus_dolphin.backtest.harness import run_backtest
        from nautilus_dolphin.engine import NDAlphaEngine

        kwargs = dict(ENGINE_KWARGS)
        for f in FEATURE_NAMES:
            if f in config:
                kwargs[f] = int(config[f]) if f == "max_hold_bars" else float(config[f])
        res = run_backtest(
            lambda: NDAlphaEngine(**kwargs),
            self.days,
            vol_p60=self.vol_p60,
            ob_engine=self.ob_engine,
            acb=False,
            forewarner=None,
        )
        m = res.metrics
        return {"roi": m.roi_pct / 100.0, "max_dd": m.max_dd_trade_pct / 100.0, "trades": m.trades}


def load_vbt_cache_window(catalog: str | Path, days: int) -> list[tuple[str, pd.DataFrame]]:
    """Read the first ``days`` daily files of ``<catalog>/vbt_cache`` (``YYYY-MM-DD.parquet``, date order).

    Raises
    ------
    FileNotFoundError
        When the directory holds fewer than ``days`` daily files (the message names it).
    """
    import re

    vdir = Path(catalog) / "vbt_cache"
    files = sorted(
        f
        for f in (vdir.glob("*.parquet") if vdir.is_dir() else [])
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", f.stem)
    )
    if len(files) < days:
        raise FileNotFoundError(f"mc-train: {vdir} holds {len(files)} daily vbt_cache files, {days} needed")
    return [(f.stem, pd.read_parquet(f)) for f in files[:days]]


def default_output_path() -> Path:
    """Where ``dolphin mc-train`` writes by default: the package model file."""
    return default_model_path()


def main_train(
    n: int,
    seed: int,
    days: int,
    out: Path,
    bars_per_day: int = 2000,
    mock_ob: bool = False,
    catalog: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the pipeline and write the model.

    The window is synthetic (``days`` x ``bars_per_day``) unless ``catalog`` is given: then the
    first ``days`` files of ``<catalog>/vbt_cache/YYYY-MM-DD.parquet`` (date order) are used.
    """
    ob_engine = None if mock_ob else False
    if catalog is None:
        sim = EngineWindowSimulator(n_days=days, bars_per_day=bars_per_day, ob_engine=ob_engine)
    else:
        frames = load_vbt_cache_window(catalog, days)
        sim = EngineWindowSimulator(frames, ob_engine=ob_engine)
        sim.window["source"] = f"vbt_cache:{Path(catalog) / 'vbt_cache'}"
    step = max(1, n // 10)

    def progress(i: int, total: int) -> None:
        if i % step == 0 or i == total:
            log(f"mc-train: {i}/{total} simulations")

    model = train_forewarner(n, seed, sim, progress=progress)
    write_model(model, out)
    return model
