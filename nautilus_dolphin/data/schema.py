"""The DOLPHIN scan schema (spec 001 §7): one row per 5-second scan, one price column per asset."""

TIMESTAMP_COL: str = "timestamp"
SCAN_NUMBER_COL: str = "scan_number"
VEL_DIV_COL: str = "vel_div"
VELOCITY_COLS: tuple[str, ...] = (
    "v50_lambda_max_velocity",
    "v150_lambda_max_velocity",
    "v300_lambda_max_velocity",
    "v750_lambda_max_velocity",
)
INSTABILITY_COLS: tuple[str, ...] = ("instability_50", "instability_150")

SIGNAL_COLS: tuple[str, ...] = (VEL_DIV_COL, *VELOCITY_COLS, *INSTABILITY_COLS)
"""The float signal columns of a scan, in vbt_cache order."""

META_COLS: frozenset[str] = frozenset({TIMESTAMP_COL, SCAN_NUMBER_COL, *SIGNAL_COLS})
"""Non-price columns; every other column of a vbt_cache file is an asset price."""


def asset_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """Return the asset price columns of a frame, in their file order (everything not in META_COLS)."""
    return [c for c in columns if c not in META_COLS]
