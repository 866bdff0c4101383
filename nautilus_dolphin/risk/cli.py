"""``dolphin mc-train``: train the MC-Forewarner and write its JSON model."""

import argparse
from pathlib import Path


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the ``mc-train`` sub-command."""
    p = subparsers.add_parser(
        "mc-train",
        help="train the MC-Forewarner on Monte-Carlo runs of the engine (writes a JSON model)",
        description="Sample engine configurations around MC_BASE_CFG, run each through the engine on a "
        "short synthetic window, fit the forewarner models and write them as JSON.",
    )
    p.add_argument("--n", type=int, default=256, help="number of sampled configurations (default 256)")
    p.add_argument("--seed", type=int, default=7, help="sampler seed (default 7)")
    p.add_argument("--days", type=int, default=3, help="days in the synthetic window (default 3, min 2)")
    p.add_argument("--bars", type=int, default=2000, help="5 s scans per synthetic day (default 2000)")
    p.add_argument(
        "--mock-ob",
        action="store_true",
        help="run the harness's gold MockOBProvider OB engine (about 1 s per run) instead of the seeded OB gate",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="train on the first --days files of CATALOG/vbt_cache instead of a synthetic window",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output path (default: the package model nautilus_dolphin/risk/models/mc_forewarner.json)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from nautilus_dolphin.risk.mc_train import default_output_path
    from nautilus_dolphin.risk.mc_train import main_train

    if args.n < 3:
        print("mc-train: --n must be >= 3")
        return 2
    if args.days < 2:
        print("mc-train: --days must be >= 2 (the gold vol_p60 uses the first two days)")
        return 2
    out = args.out if args.out is not None else default_output_path()
    try:
        model = main_train(
            args.n,
            args.seed,
            args.days,
            out,
            bars_per_day=args.bars,
            mock_ob=args.mock_ob,
            catalog=args.catalog,
        )
    except FileNotFoundError as exc:
        print(exc)
        return 2
    meta = model["metadata"]
    base = meta["base_assessment"]
    print(f"mc-train: wrote {out} (n={meta['n']}, used={meta['n_used']}, seed={meta['seed']})")
    print(
        f"mc-train: MC_BASE_CFG assesses {base['status']} (d2={base['envelope_d2']:.3f}, "
        f"max_dd={base['predicted_max_dd']:.4f}, P(cat)={base['catastrophic_prob']:.4f})"
    )
    if base["status"] != "OK":
        print("mc-train: WARNING: the base configuration is not OK under this model; check thresholds")
    return 0
