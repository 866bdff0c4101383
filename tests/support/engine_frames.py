"""Hand-built DOLPHIN-format frames for engine scenario tests."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

ASSETS6 = ["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT", "FFFUSDT"]
SIGNAL_BAR = 150


def scenario_frame(n: int = 300, signal_bar: int = SIGNAL_BAR, vel_div: float = -0.03) -> pd.DataFrame:
    """Six assets drifting down until the signal bar (AAA the most), flat for the last 8 bars.

    At ``signal_bar`` vel_div crosses the threshold; everywhere else it is 0. The IRP pick is
    AAAUSDT (largest fall in units of its volatility) and direction confirmation is neutral.
    """
    t = np.arange(n, dtype=np.float64)
    wiggle = np.where(t.astype(int) % 2 == 0, 1.0, -1.0) * 1e-4
    prices = {}
    drops = [0.020, 0.010, 0.008, 0.006, 0.004, -0.002]
    for asset, drop in zip(ASSETS6, drops):
        path = 100.0 * (1.0 - drop * np.minimum(t, signal_bar - 8) / (signal_bar - 8)) * (1.0 + wiggle)
        path[signal_bar - 8 :] = path[signal_bar - 8]
        prices[asset] = path
    df = pd.DataFrame(prices)
    df["vel_div"] = 0.0
    df.loc[signal_bar, "vel_div"] = vel_div
    df["v750_lambda_max_velocity"] = 0.0
    df["instability_50"] = 0.0
    df["timestamp"] = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC")
    return df


@dataclass
class FakeForewarnerResult:
    status: str


class FakeForewarner:
    """Test double at the outer edge: returns fixed statuses per call and records what it saw."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = list(statuses)
        self.seen: list[dict] = []

    def assess(self, config):
        self.seen.append(dict(config))
        return FakeForewarnerResult(self.statuses.pop(0) if self.statuses else "OK")



def random_days(n_days: int = 4, n_bars: int = 4000, n_assets: int = 12, seed: int = 7) -> list:
    """Random-walk DOLPHIN-format days with a mean-reverting dip after negative vel_div.

    Returns a list of ``(date_str, df, asset_columns)``; deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    assets = [f"A{i:02d}USDT" for i in range(n_assets)]
    level = np.full(n_assets, 100.0)
    out = []
    for d in range(n_days):
        vd = rng.normal(0.0, 0.012, n_bars)
        common = rng.normal(0.0, 6e-4, n_bars) + np.where(vd < -0.02, -2e-3, 0.0)
        common[1:] += np.where(vd[:-1] < -0.02, 2.5e-3, 0.0)
        rets = common[:, None] + rng.normal(0.0, 5e-4, (n_bars, n_assets))
        px = level * np.exp(np.cumsum(rets, axis=0))
        level = px[-1]
        df = pd.DataFrame(px, columns=assets)
        df["vel_div"] = vd
        df["v750_lambda_max_velocity"] = rng.normal(0.0, 0.01, n_bars)
        df["instability_50"] = rng.normal(0.0, 0.01, n_bars)
        out.append((f"2026-01-{d + 1:02d}", df, assets))
    return out


def nautilus_objects_for_frame(
    df: pd.DataFrame, assets: list[str], tick: float = 0.0001, step: float = 0.001, spread_ticks: int = 0
):
    """Instruments, quotes and DolphinScan data for a hand-built frame (test helper).

    Quotes are at the frame price (zero spread) or ``spread_ticks`` ticks either side of it.
    """
    from nautilus_trader.model.data import DataType
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    from nautilus_dolphin.data.universe import AssetSpec
    from strategies.data_types import DolphinScan
    from strategies.instruments import make_perpetual

    instruments = [make_perpetual(AssetSpec(a, 100.0, tick, step, "test"), exchange_info={}) for a in assets]
    ts = (df["timestamp"].astype("int64")).to_numpy()
    px = df[assets].to_numpy(np.float64)
    quotes = []
    for j, inst in enumerate(instruments):
        for i in range(len(df)):
            if not px[i, j] > 0:
                continue
            bid = Price(px[i, j] - spread_ticks * tick, inst.price_precision)
            ask = Price(px[i, j] + spread_ticks * tick, inst.price_precision)
            quotes.append(QuoteTick(inst.id, bid, ask, Quantity(1e6, inst.size_precision),
                                    Quantity(1e6, inst.size_precision), int(ts[i]), int(ts[i])))
    quotes.sort(key=lambda q: q.ts_init)
    scans = []
    for i in range(len(df)):
        row = df.iloc[i]
        scans.append(DolphinScan(ts_event=int(ts[i]), ts_init=int(ts[i]), scan_number=i,
                                 vel_div=float(row["vel_div"]),
                                 v750_lambda_max_velocity=float(row.get("v750_lambda_max_velocity", 0.0)),
                                 instability_50=float(row.get("instability_50", 0.0)),
                                 prices=px[i].copy()))
    return instruments, quotes, scans, DataType(DolphinScan)


def scenario_replay_frame(
    syms: tuple[str, ...], n_scans: int, preroll: int, tp_bar: int = SIGNAL_BAR + 10
) -> pd.DataFrame:
    """``scenario_frame`` as a vbt_cache-layout frame over six universe ``syms`` (test helper).

    The made-up assets are renamed to ``syms`` (AAA, the IRP pick, first) and rescaled to their
    reference prices on their tick grids; AAA rises 1.2 % from ``tp_bar`` (a take-profit); ``preroll``
    copies of row 0 go in front (rows that only step a loopback venue, ``scan_number`` -1).
    """
    from nautilus_dolphin.data.schema import INSTABILITY_COLS
    from nautilus_dolphin.data.schema import VELOCITY_COLS
    from nautilus_dolphin.data.universe import UNIVERSE

    df = scenario_frame(n=n_scans)
    df.loc[tp_bar:, "AAAUSDT"] *= 1.012
    out = pd.DataFrame({"timestamp": df["timestamp"], "scan_number": np.arange(n_scans)})
    out["vel_div"] = df["vel_div"]
    for col in (*VELOCITY_COLS, *INSTABILITY_COLS):
        out[col] = 0.0
    for made_up, sym in zip(ASSETS6, syms):
        spec = UNIVERSE[sym]
        decimals = max(0, -int(np.floor(np.log10(spec.tick_size) + 1e-9)))
        out[sym] = np.round(df[made_up] * spec.ref_price / 100.0, decimals)  # on the tick grid
    head = pd.concat([out.iloc[[0]]] * preroll, ignore_index=True)
    head["timestamp"] = out["timestamp"].iloc[0] - pd.to_timedelta(5 * np.arange(preroll, 0, -1), unit="s")
    head["scan_number"] = -1
    return pd.concat([head, out], ignore_index=True)


SCENARIO_OVERRIDES: dict = {"use_ob_edge": False, "use_sp_slippage": False}
"""Engine overrides of the scenario tests: deterministic decisions (no seeded OB gate, no slippage)."""


def scenario_trade_frame(
    n: int = 320, tp: bool = True, crash: float | None = None, signals: tuple[int, ...] = ()
) -> pd.DataFrame:
    """``scenario_frame`` with prices on a 1e-4 grid, for strategy backtests (test helper).

    ``tp``: AAA rises 1.2 % from ten bars after the signal (a take-profit); ``crash``: AAA falls by
    that fraction from five bars after it; ``signals``: more bars where ``vel_div`` crosses -0.03.
    """
    df = scenario_frame(n=n)
    if tp:
        df.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] *= 1.012
    if crash is not None:
        df.loc[SIGNAL_BAR + 5 :, "AAAUSDT"] *= 1.0 - crash
    for bar in signals:
        df.loc[bar, "vel_div"] = -0.03
    df[ASSETS6] = df[ASSETS6].round(4)
    return df
