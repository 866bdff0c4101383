"""MC-Forewarner: OK / ORANGE / RED for an engine configuration (spec 001 §3, §5, §12).

The forewarner is shown the engine's configuration once per day in ``begin_day`` (with the D_LIQ
lever-swap it sees ``max_leverage = abs_max_leverage = 5.0``) and answers from models fitted on
Monte-Carlo runs of the engine (``nautilus_dolphin.risk.mc_train``). RED halts the day
(``HIBERNATE_HALT``).

Model file (portable, version-safe)
-----------------------------------
A JSON document of plain numbers, loaded with :mod:`json` (nothing is ever unpickled, no
scikit-learn needed to score). ``schema`` must be ``"nautilus_dolphin.mc_forewarner"`` and
``schema_version`` :data:`SCHEMA_VERSION`. Keys:

- ``feature_names`` (p names) and ``defaults`` (name -> value used when the assessed mapping
  lacks a feature; reported in ``MCAssessment.missing_features``);
- ``standardiser``: ``mean``, ``scale`` (p each): ``z = (x - mean) / scale``;
- ``envelope``: Gaussian one-class boundary on ``z``: ``mean`` (p), ``precision`` (p x p, inverse
  covariance), ``d2_orange``, ``d2_red``; ``d2 = (z - mean)' precision (z - mean)`` is the squared
  Mahalanobis distance from the sampled configurations (chi-square quantiles 0.99 / 0.999 of
  p degrees of freedom by default);
- ``basis``: ``"linear+square"``: ``phi(z) = [z_1..z_p, z_1^2..z_p^2]`` (2p terms);
- ``max_dd`` and ``roi``: ridge regressions ``y = intercept + coef . phi`` (max drawdown and ROI
  as fractions of starting capital; the reported drawdown is ``max(0, y)``);
- ``catastrophic``: logistic model ``P = 1 / (1 + exp(-(intercept + coef . phi)))`` of a run
  being catastrophic (its ``definition``: ``max_dd >= max_dd_at_least`` or
  ``roi <= roi_at_most``);
- ``thresholds``: ``orange_max_dd``, ``orange_catastrophic_prob``, ``red_catastrophic_prob``;
- ``metadata``: free-form (training date, n, seed, simulator, data window).

Classification
--------------
RED when ``d2 > d2_red`` (outside the trained envelope: no model can vouch for it) or
``P >= red_catastrophic_prob``; otherwise ORANGE when ``d2 > d2_orange`` or predicted
``max_dd > orange_max_dd`` or ``P >= orange_catastrophic_prob``; otherwise OK.
"""

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_NAME: str = "nautilus_dolphin.mc_forewarner"
SCHEMA_VERSION: int = 1
STATUSES: tuple[str, ...] = ("OK", "ORANGE", "RED")
BASIS: str = "linear+square"
MODEL_RELPATH: str = "risk/models/mc_forewarner.json"
"""Location of the shipped model inside the ``nautilus_dolphin`` package."""
TRAIN_COMMAND: str = "dolphin mc-train"
THRESHOLD_KEYS: tuple[str, ...] = ("orange_max_dd", "orange_catastrophic_prob", "red_catastrophic_prob")


class ForewarnerModelError(ValueError):
    """A forewarner model file or document has the wrong schema, a missing key or a bad value."""


class ForewarnerModelMissing(FileNotFoundError):
    """The forewarner model file does not exist."""


def default_model_path() -> Path:
    """Return the path of the model shipped in the package (it may not exist yet)."""
    return Path(str(resources.files("nautilus_dolphin").joinpath(MODEL_RELPATH)))


@dataclass(frozen=True)
class MCAssessment:
    """One forewarner answer: the status and the model outputs behind it.

    ``envelope_d2`` is the squared Mahalanobis distance from the training configurations,
    ``predicted_max_dd`` / ``predicted_roi`` are fractions of starting capital,
    ``catastrophic_prob`` is in [0, 1]; ``reasons`` names each rule that fired.
    """

    status: str
    envelope_d2: float
    predicted_max_dd: float
    predicted_roi: float
    catastrophic_prob: float
    reasons: tuple[str, ...] = ()
    missing_features: tuple[str, ...] = ()

    @property
    def is_red(self) -> bool:
        """True when the day must be halted (HIBERNATE_HALT)."""
        return self.status == "RED"

    def to_dict(self) -> dict[str, Any]:
        """Return the assessment as a plain dict (for traces)."""
        return {
            "status": self.status,
            "envelope_d2": self.envelope_d2,
            "predicted_max_dd": self.predicted_max_dd,
            "predicted_roi": self.predicted_roi,
            "catastrophic_prob": self.catastrophic_prob,
            "reasons": list(self.reasons),
            "missing_features": list(self.missing_features),
        }


def _get(doc: Mapping[str, Any], key: str, where: str, source: str) -> Any:
    if not isinstance(doc, Mapping):
        raise ForewarnerModelError(f"{source}: {where} must be an object")
    if key not in doc:
        raise ForewarnerModelError(f"{source}: missing key {where + '.' if where else ''}{key}")
    return doc[key]


def _array(value: Any, shape: tuple[int, ...], name: str, source: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ForewarnerModelError(f"{source}: {name} must be numbers: {exc}") from exc
    if arr.shape != shape:
        raise ForewarnerModelError(f"{source}: {name} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise ForewarnerModelError(f"{source}: {name} contains non-finite numbers")
    return arr


def _number(value: Any, name: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ForewarnerModelError(f"{source}: {name} must be a finite number, got {value!r}")
    return float(value)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class DolphinForewarner:
    """Scores engine configurations with a validated JSON model (see the module docstring)."""

    def __init__(self, model: Mapping[str, Any], source: str = "<model>") -> None:
        self.source = source
        self._doc = json.loads(json.dumps(model, allow_nan=False))  # detached plain copy
        self._parse(self._doc, source)

    # ----------------------------------------------------------------------------- I/O
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "DolphinForewarner":
        """Load a model file; ``None`` = the model shipped in the package.

        Raises
        ------
        ForewarnerModelMissing
            The file does not exist (the message names it and the command that creates it).
        ForewarnerModelError
            Not JSON, wrong schema/version, a missing key or a bad value (named).
        """
        p = Path(path) if path is not None else default_model_path()
        if not p.is_file():
            raise ForewarnerModelMissing(
                f"MC-Forewarner model not found: {p}. Create it with `{TRAIN_COMMAND}` "
                f"(default output nautilus_dolphin/{MODEL_RELPATH}), or pass the path of a trained model."
            )
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ForewarnerModelError(f"{p}: not a JSON forewarner model: {exc}") from exc
        return cls(doc, source=str(p))

    @classmethod
    def from_dict(cls, model: Mapping[str, Any]) -> "DolphinForewarner":
        """Build a forewarner from an in-memory model document (validated)."""
        return cls(model, source="<dict>")

    def to_dict(self) -> dict[str, Any]:
        """Return a copy of the model document."""
        return json.loads(json.dumps(self._doc))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model document as JSON (exact float round trip) and return the path."""
        return write_model(self._doc, path)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features the model scores, in order."""
        return self._names

    @property
    def metadata(self) -> dict[str, Any]:
        """The model's training metadata."""
        return dict(self._doc.get("metadata", {}))

    @property
    def thresholds(self) -> dict[str, float]:
        """The classification thresholds (``orange_max_dd``, ``*_catastrophic_prob``)."""
        return dict(self._thr)

    def _parse(self, doc: Mapping[str, Any], src: str) -> None:
        schema = _get(doc, "schema", "", src)
        version = _get(doc, "schema_version", "", src)
        if schema != SCHEMA_NAME:
            raise ForewarnerModelError(f"{src}: schema is {schema!r}, expected {SCHEMA_NAME!r}")
        if type(version) is not int or version != SCHEMA_VERSION:
            raise ForewarnerModelError(
                f"{src}: schema_version is {version!r}, this code reads version {SCHEMA_VERSION}; "
                f"retrain with `{TRAIN_COMMAND}`"
            )
        names = _get(doc, "feature_names", "", src)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ForewarnerModelError(f"{src}: feature_names must be a non-empty list of strings")
        if len(set(names)) != len(names):
            raise ForewarnerModelError(f"{src}: feature_names has duplicates")
        p = len(names)
        self._names = tuple(names)
        defaults = _get(doc, "defaults", "", src)
        self._defaults = {n: _number(_get(defaults, n, "defaults", src), f"defaults.{n}", src) for n in names}
        st = _get(doc, "standardiser", "", src)
        self._mean = _array(_get(st, "mean", "standardiser", src), (p,), "standardiser.mean", src)
        self._scale = _array(_get(st, "scale", "standardiser", src), (p,), "standardiser.scale", src)
        if np.any(self._scale <= 0):
            raise ForewarnerModelError(f"{src}: standardiser.scale must be > 0")
        env = _get(doc, "envelope", "", src)
        self._env_mean = _array(_get(env, "mean", "envelope", src), (p,), "envelope.mean", src)
        self._env_prec = _array(_get(env, "precision", "envelope", src), (p, p), "envelope.precision", src)
        self._d2_orange = _number(_get(env, "d2_orange", "envelope", src), "envelope.d2_orange", src)
        self._d2_red = _number(_get(env, "d2_red", "envelope", src), "envelope.d2_red", src)
        if not 0 < self._d2_orange <= self._d2_red:
            raise ForewarnerModelError(f"{src}: need 0 < envelope.d2_orange <= envelope.d2_red")
        basis = _get(doc, "basis", "", src)
        if basis != BASIS:
            raise ForewarnerModelError(f"{src}: basis is {basis!r}, expected {BASIS!r}")
        self._lin: dict[str, tuple[float, np.ndarray]] = {}
        for key in ("max_dd", "roi", "catastrophic"):
            m = _get(doc, key, "", src)
            self._lin[key] = (
                _number(_get(m, "intercept", key, src), f"{key}.intercept", src),
                _array(_get(m, "coef", key, src), (2 * p,), f"{key}.coef", src),
            )
        thr = _get(doc, "thresholds", "", src)
        self._thr = {
            k: _number(_get(thr, k, "thresholds", src), f"thresholds.{k}", src) for k in THRESHOLD_KEYS
        }
        if not 0 <= self._thr["orange_catastrophic_prob"] <= self._thr["red_catastrophic_prob"] <= 1:
            raise ForewarnerModelError(
                f"{src}: need 0 <= thresholds.orange_catastrophic_prob <= red_catastrophic_prob <= 1"
            )

    # ----------------------------------------------------------------------------- scoring
    def features(self, config: Mapping[str, float]) -> tuple[np.ndarray, tuple[str, ...]]:
        """Return the raw feature vector of ``config`` and the names filled from ``defaults``.

        Raises
        ------
        ValueError
            A feature value is not a finite number (the feature is named).
        """
        x = np.empty(len(self._names), dtype=np.float64)
        missing: list[str] = []
        for j, name in enumerate(self._names):
            if name in config:
                raw = config[name]
                try:
                    v = float(raw)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"MC-Forewarner: feature {name}={raw!r} is not a number") from exc
                if not math.isfinite(v):
                    raise ValueError(f"MC-Forewarner: feature {name}={raw!r} is not finite")
            else:
                v = self._defaults[name]
                missing.append(name)
            x[j] = v
        return x, tuple(missing)

    def basis(self, x: np.ndarray) -> np.ndarray:
        """Return ``phi(z)`` for a raw feature vector: ``z = (x - mean)/scale``, ``[z, z**2]``."""
        z = (np.asarray(x, dtype=np.float64) - self._mean) / self._scale
        return np.concatenate([z, z * z])

    def assess(self, config: Mapping[str, float]) -> MCAssessment:
        """Score one configuration (a mapping of feature name -> value) and classify it."""
        x, missing = self.features(config)
        z = (x - self._mean) / self._scale
        phi = np.concatenate([z, z * z])
        dz = z - self._env_mean
        d2 = float(dz @ self._env_prec @ dz)
        b0, w = self._lin["max_dd"]
        dd = max(0.0, b0 + float(w @ phi))
        b0, w = self._lin["roi"]
        roi = b0 + float(w @ phi)
        b0, w = self._lin["catastrophic"]
        logit = b0 + float(w @ phi)
        prob = _sigmoid(logit) if math.isfinite(logit) else (1.0 if logit > 0 else 0.0)
        thr = self._thr
        red: list[str] = []
        orange: list[str] = []
        if not all(math.isfinite(v) for v in (d2, dd, roi)):
            red.append("non_finite_prediction")
        if d2 > self._d2_red:
            red.append("outside_envelope")
        elif d2 > self._d2_orange:
            orange.append("envelope_edge")
        if prob >= thr["red_catastrophic_prob"]:
            red.append("catastrophic_prob")
        elif prob >= thr["orange_catastrophic_prob"]:
            orange.append("catastrophic_prob")
        if dd > thr["orange_max_dd"]:
            orange.append("predicted_max_dd")
        status = "RED" if red else ("ORANGE" if orange else "OK")
        return MCAssessment(
            status=status,
            envelope_d2=d2,
            predicted_max_dd=dd,
            predicted_roi=roi,
            catastrophic_prob=prob,
            reasons=tuple(red + orange),
            missing_features=missing,
        )

    # DOLPHIN-compatible name.
    def assess_config_dict(self, config: Mapping[str, float]) -> MCAssessment:
        """Alias of :meth:`assess` (the DOLPHIN name)."""
        return self.assess(config)


def write_model(model: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Validate a model document and write it as JSON; returns the path.

    Raises ``ForewarnerModelError`` for an invalid document and ``ValueError`` for non-finite
    numbers (JSON has no NaN); nothing is written then.
    """
    DolphinForewarner(model, source="<write_model>")
    text = json.dumps(model, indent=1, allow_nan=False, sort_keys=False)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(p)
    return p
