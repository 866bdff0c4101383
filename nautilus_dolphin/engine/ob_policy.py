"""How the engine uses order-book features: the OB edge gate, ``market_ob_mult`` and tail exits.

The spec names ``use_ob_edge``, ``ob_edge_bps`` (5.0) and ``ob_confirm_rate`` (0.40) and says that
without an OB engine the gate is a seeded pass at ``ob_confirm_rate``. Definitions, with ``d`` the
trade direction and the features of the candidate asset at the bar:

- ``signed_imb = d * imbalance_ma5`` (> 0: the book leans the trade's way).
- ``edge_bps = 1e4 * EDGE_SCALE * |imbalance_ma5| * imbalance_persistence``: a persistent
  one-sided book is pressure the mean reversion feeds on, whichever side it is on.
- Block when the book strongly and persistently contradicts the trade
  (``signed_imb <= -CONTRADICT_IMB`` and persistence >= ``CONTRADICT_PERSIST``).
- Pass (confirmed) when ``edge_bps >= ob_edge_bps``.
- Otherwise pass with probability ``ob_confirm_rate`` (one seeded draw). With no OB engine every
  entry takes this branch.

``market_ob_mult`` scales leverage and its clamp by the cross-asset regime: CALM 1.0,
STRESSED 0.75, CASCADE 0.5 (1.0 without an OB engine).

OB_TAIL_AVOIDANCE closes an open position when the macro regime is CASCADE, or when the held
asset's depth is being withdrawn fast (``withdrawal_velocity <= -TAIL_WITHDRAWAL``) while its
book leans against the position (``signed_imb <= -TAIL_IMB``).
"""

from nautilus_dolphin.obf.types import CASCADE_CASCADE
from nautilus_dolphin.obf.types import CASCADE_STRESSED

EDGE_SCALE: float = 0.01
CONTRADICT_IMB: float = 0.25
CONTRADICT_PERSIST: float = 0.8
REGIME_MULT: tuple[float, float, float] = (1.0, 0.75, 0.5)
TAIL_WITHDRAWAL: float = 0.25
TAIL_IMB: float = 0.2

GATE_CONFIRMED: int = 1
GATE_RANDOM_PASS: int = 2
GATE_RANDOM_FAIL: int = -2
GATE_BLOCKED: int = -1


def edge_bps(imbalance_ma5: float, persistence: float) -> float:
    """Return the OB edge estimate in basis points."""
    return 1e4 * EDGE_SCALE * abs(imbalance_ma5) * persistence


def gate_decision(
    signed_imb: float,
    persistence: float,
    edge: float,
    ob_edge_bps: float,
    draw: float | None,
    ob_confirm_rate: float,
) -> int:
    """Return one of the GATE_* codes; ``draw`` is the uniform draw used only on the random branch."""
    if signed_imb <= -CONTRADICT_IMB and persistence >= CONTRADICT_PERSIST:
        return GATE_BLOCKED
    if edge >= ob_edge_bps:
        return GATE_CONFIRMED
    if draw is not None and draw < ob_confirm_rate:
        return GATE_RANDOM_PASS
    return GATE_RANDOM_FAIL


def regime_mult(cascade_regime: int) -> float:
    """Return ``market_ob_mult`` for a cascade regime code."""
    if cascade_regime >= CASCADE_CASCADE:
        return REGIME_MULT[2]
    if cascade_regime >= CASCADE_STRESSED:
        return REGIME_MULT[1]
    return REGIME_MULT[0]


def tail_exit(cascade_regime: int, withdrawal_velocity: float, signed_imb: float) -> bool:
    """Return True when the OB tail-avoidance exit must fire."""
    if cascade_regime >= CASCADE_CASCADE:
        return True
    return withdrawal_velocity <= -TAIL_WITHDRAWAL and signed_imb <= -TAIL_IMB
