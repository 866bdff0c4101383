"""The Hazelcast order-book payload codec (seed 000 §2, contracts §3).

Payload (map ``DOLPHIN_FEATURES``, key ``asset_{SYMBOL}_ob``)::

    {"timestamp": "2026-03-26T12:34:56.789000+00:00",      # or unix seconds (int/float)
     "bid_notional": [5 floats], "ask_notional": [5 floats],
     "bid_depth": [5 floats], "ask_depth": [5 floats],
     "_pushed_at": "2026-03-26T12:34:56.901000+00:00",     # optional
     "_push_seq": 1711453296901}                           # optional, int

``OBPayloadCodec.decode`` never raises: a payload is either an ``OBSnapshot``, a duplicate
(``None``, counted in ``duplicates``) or a rejection (``None``, counted under one reason):

- ``bad_json``: text that is not JSON (or bytes that are not UTF-8, or ``to_string()`` failing).
- ``not_object``: valid JSON that is not an object, or a payload of an unusable type.
- ``missing_field``: a required field is absent, or ``_push_seq`` is present but not an integer.
- ``wrong_length``: an array field is not a list of exactly 5 entries.
- ``negative``: an array entry is below 0.
- ``non_finite``: an array entry is NaN/inf or not a number at all.
- ``bad_timestamp``: ``timestamp`` is neither ISO-8601 nor unix seconds in [0, 4102444800].
- ``seq_backwards``: ``_push_seq`` is lower than the last accepted one for that asset.

No Hazelcast import: ``HazelcastJsonValue``-like objects are handled by duck typing
``to_string()``.
"""

import json
import math
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import Any

import numpy as np

from nautilus_dolphin.obf.types import N_LEVELS
from nautilus_dolphin.obf.types import OBSnapshot

REJECT_REASONS: tuple[str, ...] = (
    "bad_json",
    "not_object",
    "missing_field",
    "wrong_length",
    "negative",
    "non_finite",
    "bad_timestamp",
    "seq_backwards",
)
ARRAY_FIELDS: tuple[str, ...] = ("bid_notional", "ask_notional", "bid_depth", "ask_depth")
MAX_UNIX_S: float = 4_102_444_800.0
"""2100-01-01: a larger "unix seconds" value is almost surely milliseconds or nanoseconds."""


def parse_timestamp(value: Any) -> float:
    """Return unix seconds from an ISO-8601 string (naive = UTC, ``Z`` accepted), a numeric string
    or a unix int/float (passed through unchanged).

    Raises
    ------
    ValueError
        For anything else, a non-finite number, or seconds outside [0, 4102444800] (a
        millisecond value is rejected rather than misread).
    """
    if isinstance(value, bool):
        raise ValueError(f"timestamp must be ISO-8601 or unix seconds, got bool {value!r}")
    if isinstance(value, int | float | np.integer | np.floating):
        ts = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = float(text)
        except ValueError:
            try:
                dt = datetime.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(f"timestamp {value[:64]!r} is not ISO-8601 or unix seconds") from exc
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            try:
                ts = dt.timestamp()
            except (OverflowError, OSError, ValueError) as exc:
                raise ValueError(f"timestamp {value[:64]!r} is out of range") from exc
    else:
        raise ValueError(f"timestamp must be ISO-8601 or unix seconds, got {type(value).__name__}")
    if not math.isfinite(ts) or ts < 0.0 or ts > MAX_UNIX_S:
        raise ValueError(f"timestamp {ts!r} is not unix seconds in [0, {MAX_UNIX_S:.0f}]")
    return ts


def format_timestamp(ts: float) -> str:
    """Return the ISO-8601 UTC form used in the payload (microseconds, ``+00:00``)."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="microseconds")


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _array(payload: Mapping, field: str) -> np.ndarray:
    if field not in payload:
        raise _Reject("missing_field")
    raw = payload[field]
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1 or raw.shape[0] != N_LEVELS:
            raise _Reject("wrong_length")
        items = raw.tolist()
    elif isinstance(raw, list | tuple):
        if len(raw) != N_LEVELS:
            raise _Reject("wrong_length")
        items = raw
    else:
        raise _Reject("wrong_length")
    out = np.empty(N_LEVELS, dtype=np.float64)
    for i, x in enumerate(items):
        if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
            raise _Reject("non_finite")
        try:
            v = float(x)
        except (OverflowError, ValueError):
            raise _Reject("non_finite") from None
        if not math.isfinite(v):
            raise _Reject("non_finite")
        if v < 0.0:
            raise _Reject("negative")
        out[i] = v
    return out


class OBPayloadCodec:
    """Decode and encode the seed-000 §2 payload; count every outcome.

    Attributes
    ----------
    accepted : int
        Payloads turned into snapshots.
    duplicates : int
        Payloads whose ``_push_seq`` equals the last accepted one of that asset.
    rejected : dict[str, int]
        Rejections by reason; every reason of ``REJECT_REASONS`` is present (0 initially).
    """

    def __init__(self) -> None:
        self.accepted: int = 0
        self.duplicates: int = 0
        self.rejected: dict[str, int] = dict.fromkeys(REJECT_REASONS, 0)
        self._last_seq: dict[str, int] = {}

    @property
    def total_rejected(self) -> int:
        """Return the number of rejected payloads over all reasons."""
        return sum(self.rejected.values())

    def decode(self, asset: str, payload: Any) -> OBSnapshot | None:
        """Return the snapshot in ``payload`` or None (rejected or duplicate, counted). Never raises."""
        try:
            return self._decode(asset, payload)
        except _Reject as rej:
            self.rejected[rej.reason] += 1
            return None
        except Exception:  # anything unforeseen is still a bad payload, never a crash
            self.rejected["bad_json"] += 1
            return None

    def _decode(self, asset: str, payload: Any) -> OBSnapshot | None:
        obj = self._to_object(payload)
        ts_raw = obj.get("timestamp")
        if ts_raw is None:
            raise _Reject("missing_field")
        arrays = [_array(obj, f) for f in ARRAY_FIELDS]
        try:
            ts = parse_timestamp(ts_raw)
        except ValueError:
            raise _Reject("bad_timestamp") from None
        pushed_at = float("nan")
        if "_pushed_at" in obj and obj["_pushed_at"] is not None:
            try:
                pushed_at = parse_timestamp(obj["_pushed_at"])
            except ValueError:
                pushed_at = float("nan")  # metadata only: keep the book, drop the bad stamp
        seq = -1
        if "_push_seq" in obj and obj["_push_seq"] is not None:
            seq = self._seq(obj["_push_seq"])
            last = self._last_seq.get(asset)
            if last is not None:
                if seq == last:
                    self.duplicates += 1
                    return None
                if seq < last:
                    raise _Reject("seq_backwards")
            self._last_seq[asset] = seq
        self.accepted += 1
        return OBSnapshot(
            asset=str(asset),
            timestamp=ts,
            bid_notional=arrays[0],
            ask_notional=arrays[1],
            bid_depth=arrays[2],
            ask_depth=arrays[3],
            pushed_at=pushed_at,
            push_seq=seq,
        )

    @staticmethod
    def _seq(raw: Any) -> int:
        if isinstance(raw, bool):
            raise _Reject("missing_field")
        if isinstance(raw, int | np.integer):
            return int(raw)
        if isinstance(raw, float | np.floating) and math.isfinite(raw) and float(raw).is_integer():
            return int(raw)
        raise _Reject("missing_field")

    @staticmethod
    def _to_object(payload: Any) -> Mapping:
        if isinstance(payload, Mapping):
            return payload
        text: Any = payload
        if not isinstance(payload, str | bytes | bytearray | memoryview):
            to_string = getattr(payload, "to_string", None)
            if not callable(to_string):
                raise _Reject("not_object")
            try:
                text = to_string()
            except Exception:
                raise _Reject("bad_json") from None
        if isinstance(text, bytes | bytearray | memoryview):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                raise _Reject("bad_json") from None
        if not isinstance(text, str):
            raise _Reject("not_object")
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            raise _Reject("bad_json") from None
        if not isinstance(obj, dict):
            raise _Reject("not_object")
        return obj

    def encode(self, snapshot: OBSnapshot) -> str:
        """Return the seed-000 §2 JSON of ``snapshot``.

        ``_pushed_at`` is written when known (finite) and ``_push_seq`` when >= 0, so
        ``decode(encode(s))`` gives back ``s``.

        Raises
        ------
        ValueError
            If the snapshot would be rejected by ``decode`` (wrong length, negative or
            non-finite values, bad timestamp): garbage is never published.
        """
        payload: dict[str, Any] = {"timestamp": format_timestamp(parse_timestamp(snapshot.timestamp))}
        for field in ARRAY_FIELDS:
            arr = np.asarray(getattr(snapshot, field), dtype=np.float64)
            if arr.shape != (N_LEVELS,):
                raise ValueError(f"{snapshot.asset}: {field} has shape {arr.shape}, expected ({N_LEVELS},)")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0.0):
                raise ValueError(f"{snapshot.asset}: {field} has negative or non-finite values {arr.tolist()}")
            payload[field] = arr.tolist()
        if math.isfinite(snapshot.pushed_at):
            payload["_pushed_at"] = format_timestamp(parse_timestamp(snapshot.pushed_at))
        if snapshot.push_seq >= 0:
            payload["_push_seq"] = int(snapshot.push_seq)
        return json.dumps(payload, allow_nan=False)

    def forget(self, asset: str | None = None) -> None:
        """Drop the ``_push_seq`` tracking of ``asset`` (all assets when None), e.g. after a resync."""
        if asset is None:
            self._last_seq.clear()
        else:
            self._last_seq.pop(asset, None)

    def stats(self) -> dict[str, Any]:
        """Return the counters as a plain dict (for logs and status endpoints)."""
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": dict(self.rejected)}
