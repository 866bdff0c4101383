"""Price driver of the loopback Binance USDT-M venue (a TEST STAND-IN).

The market advances in *steps*. Each step has a market timestamp and one mid price per symbol,
taken from a source:

- ``RandomWalkSource``: a seeded geometric random walk from the universe reference prices;
- ``ScriptedSource``: explicit price paths per symbol (the last price is held);
- ``FrameSource``: a pandas DataFrame in the DOLPHIN vbt_cache day layout (one row per 5-second
  scan, a ``timestamp`` column, one price column per asset; the META columns are ignored), so a
  live node can replay the same market a backtest saw.

From each step the driver derives a one-tick-wide top of book, a synthetic 10-level depth book
(diffs carry consistent ``U``/``u``/``pu``), one trade, a mark price and klines aggregated in
market time (so replaying 5-second scans at 12 steps per second closes a 1-minute kline every
second). Market-stream timestamps (``E``/``T``) are market time; user-data events use wall time.
"""

import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Any

from adapters.loopback.binance_futures.instruments import SymbolSpec
from adapters.loopback.binance_futures.matching import Book

KLINE_INTERVALS_MS: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
}
DEPTH_LEVELS = 10


@dataclass
class Step:
    """One market step: market time (ms) and mid prices of the symbols that have one."""

    ts_ms: int
    prices: dict[str, float]


class RandomWalkSource:
    """Seeded geometric random walk (deterministic for a seed).

    Parameters
    ----------
    start : dict[str, float]
        Starting price per symbol.
    start_ms, step_ms : int
        Market time of the first step and the market-time increment per step.
    vol : float
        Standard deviation of the log return per step.
    seed : int
        RNG seed.
    """

    def __init__(
        self, start: dict[str, float], start_ms: int, step_ms: int = 1000, vol: float = 0.0003, seed: int = 7
    ) -> None:
        self._prices = dict(start)
        self._ts = start_ms
        self._step_ms = step_ms
        self._vol = vol
        self._rng = random.Random(seed)

    def __iter__(self) -> Iterator[Step]:
        while True:
            for sym, px in self._prices.items():
                self._prices[sym] = px * math.exp(self._rng.gauss(0.0, self._vol))
            yield Step(self._ts, dict(self._prices))
            self._ts += self._step_ms


class ScriptedSource:
    """Explicit price paths per symbol; every path holds its last price once exhausted."""

    def __init__(self, paths: dict[str, list[float]], start_ms: int, step_ms: int = 1000) -> None:
        if not paths or any(len(p) == 0 for p in paths.values()):
            raise ValueError("ScriptedSource needs a non-empty path for every symbol")
        self._paths = paths
        self._ts = start_ms
        self._step_ms = step_ms

    def __iter__(self) -> Iterator[Step]:
        i = 0
        while True:
            yield Step(self._ts, {s: p[min(i, len(p) - 1)] for s, p in self._paths.items()})
            self._ts += self._step_ms
            i += 1


class FrameSource:
    """Replay a vbt_cache-layout DataFrame (one row per scan, one price column per asset).

    Rows are replayed in order; a NaN, non-positive or non-finite price leaves that symbol's
    previous price in place and is counted in ``skipped``. After the last row the source ends.

    Parameters
    ----------
    frame : pandas.DataFrame
        Must have a ``timestamp`` column (datetime64 or epoch ns/ms) and price columns.
    symbols : list[str]
        The symbols to replay (columns missing from the frame raise a ValueError naming them).
    """

    def __init__(self, frame: Any, symbols: list[str]) -> None:
        import pandas as pd

        from nautilus_dolphin.data.schema import TIMESTAMP_COL
        from nautilus_dolphin.data.schema import asset_columns

        if TIMESTAMP_COL not in frame.columns:
            raise ValueError(f"replay frame has no '{TIMESTAMP_COL}' column")
        cols = [c for c in asset_columns(list(frame.columns)) if c in symbols]
        missing = [s for s in symbols if s not in cols]
        if missing:
            raise ValueError(f"replay frame lacks price columns for {missing}")
        ts = frame[TIMESTAMP_COL]
        if pd.api.types.is_datetime64_any_dtype(ts):
            ms = (pd.to_datetime(ts, utc=True).astype("int64") // 1_000_000).tolist()
        else:
            raw = ts.astype("int64")
            ms = (raw // 1_000_000 if raw.max() > 10**14 else raw).tolist()
        self._ms = ms
        self._values = frame[cols].to_numpy(dtype=float)
        self._cols = cols
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._ms)

    def __iter__(self) -> Iterator[Step]:
        for ts, row in zip(self._ms, self._values):
            prices: dict[str, float] = {}
            for sym, px in zip(self._cols, row):
                if math.isfinite(px) and px > 0:
                    prices[sym] = float(px)
                else:
                    self.skipped += 1
            yield Step(int(ts), prices)


@dataclass
class _Kline:
    t: int
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 (Binance field name)
    c: Decimal
    v: Decimal = Decimal(0)
    q: Decimal = Decimal(0)
    n: int = 0


@dataclass
class SymbolMarket:
    """Market state of one symbol."""

    spec: SymbolSpec
    mid: Decimal
    update_id: int = 1_000_000
    trade_id: int = 1
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    klines: dict[str, _Kline] = field(default_factory=dict)
    history: dict[str, deque] = field(default_factory=dict)
    trades: deque = field(default_factory=lambda: deque(maxlen=1000))


class MarketDriver:
    """Turns steps into books, trades, klines and stream messages.

    Parameters
    ----------
    specs : dict[str, SymbolSpec]
        The symbols.
    top_notional : float
        USDT notional of each book level (sets the top-of-book size).
    seed : int
        Seed of the trade-size RNG.
    """

    def __init__(self, specs: dict[str, SymbolSpec], top_notional: float = 50_000.0, seed: int = 7) -> None:
        self.specs = specs
        self.top_notional = Decimal(str(top_notional))
        self.symbols = {s: SymbolMarket(spec=spec, mid=spec.ref_price) for s, spec in specs.items()}
        self.overrides: dict[str, Decimal] = {}
        self.ts_ms = 0
        self.steps = 0
        self._rng = random.Random(seed)
        for sm in self.symbols.values():
            self._rebuild_levels(sm)

    # -- derived values ---------------------------------------------------------------------------

    def level_qty(self, sm: SymbolMarket) -> Decimal:
        """Size of each book level (at least one step)."""
        step = sm.spec.step
        qty = (self.top_notional / sm.mid / step).to_integral_value(rounding=ROUND_FLOOR) * step
        return max(qty, step)

    def book(self, symbol: str) -> Book:
        """Top of book of ``symbol``: bid on the tick grid at or below mid, ask one tick above."""
        sm = self.symbols[symbol]
        tick = sm.spec.tick
        bid = (sm.mid / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        if bid <= 0:
            bid = tick
        qty = self.level_qty(sm)
        return Book(bid=bid, ask=bid + tick, bid_qty=qty, ask_qty=qty, mark=sm.spec.round_price(sm.mid))

    def _levels(self, sm: SymbolMarket) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        book = self.book(sm.spec.symbol)
        tick = sm.spec.tick
        qty = book.bid_qty
        bids = {book.bid - i * tick: qty for i in range(DEPTH_LEVELS) if book.bid - i * tick > 0}
        asks = {book.ask + i * tick: qty for i in range(DEPTH_LEVELS)}
        return bids, asks

    def _rebuild_levels(self, sm: SymbolMarket) -> tuple[list, list]:
        """Recompute depth levels; return (bid diffs, ask diffs) as [price, qty] pairs."""
        bids, asks = self._levels(sm)
        diffs = []
        for old, new in ((sm.bids, bids), (sm.asks, asks)):
            side = [[p, q] for p, q in new.items() if old.get(p) != q]
            side += [[p, Decimal(0)] for p in old if p not in new]
            diffs.append(side)
        sm.bids, sm.asks = bids, asks
        return diffs[0], diffs[1]

    # -- stepping ---------------------------------------------------------------------------------

    def apply(self, step: Step) -> list[tuple[str, dict]]:
        """Advance the market by one step; return ``(stream name, data)`` messages to publish."""
        self.ts_ms = step.ts_ms
        self.steps += 1
        out: list[tuple[str, dict]] = []
        for sym, sm in self.symbols.items():
            px = self.overrides.get(sym)
            if px is None and sym in step.prices:
                px = Decimal(repr(step.prices[sym]))
            prev_mid = sm.mid
            if px is not None and px > 0:
                sm.mid = px
            out += self._symbol_messages(sm, prev_mid)
        return out

    def _symbol_messages(self, sm: SymbolMarket, prev_mid: Decimal) -> list[tuple[str, dict]]:
        spec = sm.spec
        sym = spec.symbol
        low = sym.lower()
        ts = self.ts_ms
        book = self.book(sym)
        bid_diff, ask_diff = self._rebuild_levels(sm)
        first = sm.update_id + 1
        prev_u = sm.update_id
        sm.update_id += max(1, len(bid_diff) + len(ask_diff))
        msgs: list[tuple[str, dict]] = []
        depth = {
            "e": "depthUpdate",
            "E": ts,
            "T": ts,
            "s": sym,
            "U": first,
            "u": sm.update_id,
            "pu": prev_u,
            "b": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in bid_diff],
            "a": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in ask_diff],
        }
        for suffix in ("@depth", "@depth@100ms", "@depth@250ms", "@depth@500ms"):
            msgs.append((low + suffix, depth))
        msgs.append(
            (
                low + "@bookTicker",
                {
                    "e": "bookTicker",
                    "u": sm.update_id,
                    "E": ts,
                    "T": ts,
                    "s": sym,
                    "b": spec.fmt_price(book.bid),
                    "B": spec.fmt_qty(book.bid_qty),
                    "a": spec.fmt_price(book.ask),
                    "A": spec.fmt_qty(book.ask_qty),
                },
            )
        )
        buyer_taker = sm.mid >= prev_mid
        trade_px = book.ask if buyer_taker else book.bid
        trade_qty = spec.step * self._rng.randint(1, 20)
        tid = sm.trade_id
        sm.trade_id += 1
        sm.trades.append((tid, trade_px, trade_qty, ts, not buyer_taker))
        msgs.append(
            (
                low + "@trade",
                {
                    "e": "trade",
                    "E": ts,
                    "T": ts,
                    "s": sym,
                    "t": tid,
                    "p": spec.fmt_price(trade_px),
                    "q": spec.fmt_qty(trade_qty),
                    "X": "MARKET",
                    "m": not buyer_taker,
                },
            )
        )
        msgs.append(
            (
                low + "@aggTrade",
                {
                    "e": "aggTrade",
                    "E": ts,
                    "a": tid,
                    "s": sym,
                    "p": spec.fmt_price(trade_px),
                    "q": spec.fmt_qty(trade_qty),
                    "f": tid,
                    "l": tid,
                    "T": ts,
                    "m": not buyer_taker,
                },
            )
        )
        mark = {
            "e": "markPriceUpdate",
            "E": ts,
            "s": sym,
            "p": spec.fmt_price(book.mark),
            "i": spec.fmt_price(book.mark),
            "P": spec.fmt_price(book.mark),
            "r": "0.00010000",
            "T": (ts // 28_800_000 + 1) * 28_800_000,
        }
        msgs.append((low + "@markPrice", mark))
        msgs.append((low + "@markPrice@1s", mark))
        msgs += self._klines(sm, trade_px, trade_qty)
        return msgs

    def _klines(self, sm: SymbolMarket, px: Decimal, qty: Decimal) -> list[tuple[str, dict]]:
        out: list[tuple[str, dict]] = []
        ts = self.ts_ms
        for interval, ms in KLINE_INTERVALS_MS.items():
            start = ts - ts % ms
            k = sm.klines.get(interval)
            if k is not None and k.t != start:
                out.append(
                    (f"{sm.spec.symbol.lower()}@kline_{interval}", self._kline_msg(sm, interval, k, True))
                )
                sm.history.setdefault(interval, deque(maxlen=1500)).append(k)
                k = None
            if k is None:
                k = _Kline(t=start, o=px, h=px, l=px, c=px)
                sm.klines[interval] = k
            k.h, k.l, k.c = max(k.h, px), min(k.l, px), px
            k.v += qty
            k.q += qty * px
            k.n += 1
            out.append(
                (f"{sm.spec.symbol.lower()}@kline_{interval}", self._kline_msg(sm, interval, k, False))
            )
        return out

    def _kline_msg(self, sm: SymbolMarket, interval: str, k: _Kline, closed: bool) -> dict:
        spec = sm.spec
        ms = KLINE_INTERVALS_MS[interval]
        return {
            "e": "kline",
            "E": self.ts_ms,
            "s": spec.symbol,
            "k": {
                "t": k.t,
                "T": k.t + ms - 1,
                "s": spec.symbol,
                "i": interval,
                "f": 0,
                "L": 0,
                "o": spec.fmt_price(k.o),
                "c": spec.fmt_price(k.c),
                "h": spec.fmt_price(k.h),
                "l": spec.fmt_price(k.l),
                "v": spec.fmt_qty(k.v),
                "n": k.n,
                "x": closed,
                "q": f"{k.q:.8f}",
                "V": spec.fmt_qty(k.v / 2),
                "Q": f"{k.q / 2:.8f}",
                "B": "0",
            },
        }

    # -- REST views -------------------------------------------------------------------------------

    def kline_rows(self, symbol: str, interval: str, start: int | None, end: int | None, limit: int) -> list:
        """Closed klines in ``[start, end]`` (ms), oldest first, at most ``limit`` (REST shape)."""
        sm = self.symbols[symbol]
        spec = sm.spec
        ms = KLINE_INTERVALS_MS[interval]
        rows = []
        for k in sm.history.get(interval, ()):
            if start is not None and k.t < start:
                continue
            if end is not None and k.t > end:
                continue
            rows.append(
                [
                    k.t,
                    spec.fmt_price(k.o),
                    spec.fmt_price(k.h),
                    spec.fmt_price(k.l),
                    spec.fmt_price(k.c),
                    spec.fmt_qty(k.v),
                    k.t + ms - 1,
                    f"{k.q:.8f}",
                    k.n,
                    spec.fmt_qty(k.v / 2),
                    f"{k.q / 2:.8f}",
                    "0",
                ]
            )
        return rows[:limit] if start is not None else rows[-limit:]

    def depth_snapshot(self, symbol: str, limit: int) -> dict:
        """``GET /fapi/v1/depth`` reply consistent with the diff stream's update ids."""
        sm = self.symbols[symbol]
        spec = sm.spec
        bids = sorted(sm.bids.items(), reverse=True)[:limit]
        asks = sorted(sm.asks.items())[:limit]
        return {
            "lastUpdateId": sm.update_id,
            "E": self.ts_ms,
            "T": self.ts_ms,
            "bids": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in bids],
            "asks": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in asks],
        }

    def trade_rows(self, symbol: str, limit: int, agg: bool) -> list[dict]:
        """Recent trades (``/fapi/v1/trades``) or aggregated trades (``/fapi/v1/aggTrades``)."""
        sm = self.symbols[symbol]
        spec = sm.spec
        rows = list(sm.trades)[-limit:]
        if agg:
            return [
                {"a": t, "p": spec.fmt_price(p), "q": spec.fmt_qty(q), "f": t, "l": t, "T": ts, "m": m}
                for t, p, q, ts, m in rows
            ]
        return [
            {
                "id": t,
                "price": spec.fmt_price(p),
                "qty": spec.fmt_qty(q),
                "quoteQty": f"{p * q:.8f}",
                "time": ts,
                "isBuyerMaker": m,
            }
            for t, p, q, ts, m in rows
        ]
