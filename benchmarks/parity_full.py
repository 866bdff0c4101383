"""Full-window parity and realistic-vs-parity comparison (the figures in docs/parity.md).

    python benchmarks/parity_full.py [--catalog catalog] [--out runs/parity] [--engine d_liq]

Runs, on the whole catalog window, with the MC-Forewarner and ACB as ``dolphin backtest`` uses them:

1. the Nautilus runner in the parity configuration (zero-spread quotes, ``DolphinSPFeeModel``);
2. the standalone harness in the parity configuration (quantities floored to the instruments' size
   increments, no engine slippage);
3. the Nautilus runner in the realistic configuration (the catalog's quotes with their spread,
   Binance maker/taker fees, engine slippage on);

then prints (and writes ``parity.json``): whether (1) and (2) have the same trade list, the
largest relative capital difference, and trades, ROI, fees and exit reasons of all three.
Takes about 6-8 minutes on 2 cores.
"""

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from nautilus_dolphin.backtest.harness import run_gold
from strategies.backtest import NautilusRunConfig
from strategies.backtest import run_nautilus_backtest
from strategies.catalog import DolphinCatalog


def _summary(result: Any, seconds: float) -> dict[str, Any]:
    trades = result.trades
    m = result.metrics
    return {
        "trades": len(trades),
        "final_capital": result.final_capital,
        "roi_pct": m.roi_pct,
        "max_dd_pct": m.max_dd_pct,
        "win_rate_pct": m.win_rate_pct,
        "fees": m.fees,
        "exit_reasons": dict(Counter(t.exit_reason for t in trades)),
        "wall_s": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", default="catalog")
    parser.add_argument("--out", default="runs/parity")
    parser.add_argument("--engine", default="d_liq")
    args = parser.parse_args(argv)
    root = Path(args.catalog)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    increments = {
        i.id.symbol.value.removesuffix("-PERP"): float(i.size_increment) for i in DolphinCatalog(root).instruments()
    }

    t = time.perf_counter()
    nautilus = run_nautilus_backtest(NautilusRunConfig(catalog=root, engine=args.engine, forewarner=True))
    s_n = time.perf_counter() - t
    print(f"nautilus parity: {len(nautilus.trades)} trades in {s_n:.1f} s", flush=True)
    t = time.perf_counter()
    standalone = run_gold(root, engine=args.engine, forewarner=True,
                          engine_overrides={"size_increments": increments, "use_sp_slippage": False})
    s_s = time.perf_counter() - t
    print(f"standalone parity: {len(standalone.trades)} trades in {s_s:.1f} s", flush=True)
    t = time.perf_counter()
    realistic = run_nautilus_backtest(
        NautilusRunConfig(catalog=root, engine=args.engine, forewarner=True, realistic=True)
    )
    s_r = time.perf_counter() - t
    print(f"nautilus realistic: {len(realistic.trades)} trades in {s_r:.1f} s", flush=True)

    keys_n = [t.key() for t in nautilus.trades]
    keys_s = [t.key() for t in standalone.trades]
    first_diff = next((i for i, (a, b) in enumerate(zip(keys_n, keys_s)) if a != b), None)
    same_entries = Counter((t.asset, t.entry_date, t.entry_bar) for t in realistic.trades) & Counter(
        (t.asset, t.entry_date, t.entry_bar) for t in nautilus.trades
    )
    report = {
        "catalog": str(root),
        "engine": args.engine,
        "days": len(nautilus.days),
        "parity": {
            "same_trade_list": keys_n == keys_s,
            "first_difference": first_diff,
            "capital_rel_diff": abs(nautilus.final_capital / standalone.final_capital - 1.0),
            "venue_balance_rel_diff": abs(nautilus.venue_balance / nautilus.final_capital - 1.0),
        },
        "nautilus_parity": _summary(nautilus, s_n),
        "standalone_parity": _summary(standalone, s_s),
        "nautilus_realistic": _summary(realistic, s_r),
        "realistic_entries_shared_with_parity": sum(same_entries.values()),
    }
    (out / "parity.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if keys_n == keys_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
