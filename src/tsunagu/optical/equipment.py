"""Optical equipment library: amplifiers, fibres, span rules, ROADMs, transceiver modes.

Read from GNPy's ``eqpt_config.json`` format (sections ``Edfa``, ``Fiber``, ``RamanFiber``,
``Span``, ``Roadm``, ``SI``, ``Transceiver``) into frozen dataclasses, checked where they enter:
a missing or malformed field raises :class:`~tsunagu.errors.DataError` naming the section, the
``type_variety`` and the field. Defaults follow GNPy 3.0.1's documented defaults.

The amplifier noise-figure models are GNPy's published ones:

* ``variable_gain``: two-stage amplifier with an inter-stage VOA; NF1 and NF2 of the two coils
  solved from ``nf_min`` (at ``gain_flatmax``) and ``nf_max`` (at ``gain_min``), and
  ``NF(G) = NF1 + NF2 / G1a`` with ``G1a = G - ΔP - (G_flatmax - G)`` (J.-L. Augé, V. Curri,
  E. Le Rouzic, "Open design for multi-vendor optical networks", OFC 2019, and GNPy
  ``estimate_nf_model``);
* ``fixed_gain``: ``nf0``; ``openroadm``: OSNR(P_in) polynomial of the OpenROADM MSA
  (``NF = P_in - poly(P_in) + 58`` per 50 GHz); ``openroadm_preamp``/``openroadm_booster``: the
  MSA preamp mask and an ideal booster; ``advanced_model``: polynomial fit of NF vs gain
  compression; ``dual_stage``: cascade ``NF = NF_pre + NF_boost / G_pre``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tsunagu.errors import DataError

__all__ = [
    "AmplifierType",
    "Equipment",
    "FibreType",
    "RoadmType",
    "SpanRules",
    "SpectralInfo",
    "TransceiverMode",
    "TransceiverType",
    "amplifier_noise_figure_db",
    "load_equipment",
    "variable_gain_nf_model",
]

AmplifierModel = Literal[
    "variable_gain",
    "fixed_gain",
    "openroadm",
    "openroadm_preamp",
    "openroadm_booster",
    "advanced_model",
    "dual_stage",
]
_AMP_MODELS: tuple[str, ...] = AmplifierModel.__args__  # type: ignore[attr-defined]
#: Default amplifier band when the library gives none (GNPy DEFAULT_EDFA_CONFIG, C band).
_AMP_F_MIN_HZ = 191.275e12
_AMP_F_MAX_HZ = 196.125e12


@dataclass(frozen=True)
class AmplifierType:
    """One amplifier ``type_variety`` of the library (gains in dB, powers in dBm)."""

    type_variety: str
    model: AmplifierModel
    gain_flatmax_db: float
    gain_min_db: float
    p_max_dbm: float
    allowed_for_design: bool = False
    out_voa_auto: bool = False
    raman: bool = False
    nf0_db: float = math.nan
    nf1_db: float = math.nan
    nf2_db: float = math.nan
    nf_delta_p_db: float = math.nan
    nf_coef: tuple[float, ...] = ()
    nf_fit_coeff: tuple[float, ...] = ()
    preamp: AmplifierType | None = None
    booster: AmplifierType | None = None
    pmd_s: float = 0.0
    pdl_db: float = 0.0
    f_min_hz: float = _AMP_F_MIN_HZ
    f_max_hz: float = _AMP_F_MAX_HZ


@dataclass(frozen=True)
class FibreType:
    """A fibre ``type_variety``: dispersion D (s/m²), effective area (m²), PMD coefficient."""

    type_variety: str
    dispersion_s_per_m2: float = 1.67e-5
    effective_area_m2: float = 83e-12
    pmd_coef_s_per_sqrt_m: float = 0.0


@dataclass(frozen=True)
class SpanRules:
    """Automatic design rules of the ``Span`` section (GNPy semantics)."""

    power_mode: bool = True
    delta_power_range_db: tuple[float, float, float] = (0.0, 0.0, 0.5)
    max_fiber_lineic_loss_for_raman_db_per_km: float = 0.25
    target_extended_gain_db: float = 2.5
    max_length_km: float = 150.0
    max_loss_db: float | None = None
    padding_db: float = 10.0
    eol_db: float = 0.0
    con_in_db: float = 0.0
    con_out_db: float = 0.0
    span_loss_ref_db: float = 20.0
    power_slope: float = 0.3
    voa_margin_db: float = 1.0
    voa_step_db: float = 0.5


@dataclass(frozen=True)
class RoadmType:
    """A ROADM ``type_variety``: egress per-channel power target and add/drop OSNR (0.1 nm)."""

    type_variety: str
    target_pch_out_dbm: float
    add_drop_osnr_db: float = 100.0
    pmd_s: float = 0.0
    pdl_db: float = 0.0
    preamp_varieties: tuple[str, ...] = ()
    booster_varieties: tuple[str, ...] = ()
    #: True when the library gives per-path impairment profiles (not modelled: refused on use).
    has_path_impairments: bool = False


@dataclass(frozen=True)
class SpectralInfo:
    """The ``SI`` reference channel used for design and default requests."""

    f_min_hz: float = 191.35e12
    f_max_hz: float = 196.1e12
    baud_rate_hz: float = 32e9
    spacing_hz: float = 50e9
    power_dbm: float = 0.0
    tx_power_dbm: float | None = None
    roll_off: float = 0.15
    tx_osnr_db: float = 45.0
    sys_margins_db: float = 0.0
    use_si_channel_count_for_design: bool = False


@dataclass(frozen=True)
class TransceiverMode:
    """One operating mode of a transceiver (required OSNR in 0.1 nm, rates in Hz and b/s)."""

    name: str
    baud_rate_hz: float
    required_osnr_db: float
    bit_rate_bps: float
    roll_off: float
    tx_osnr_db: float
    min_spacing_hz: float
    cost: float = 1.0
    equalization_offset_db: float = 0.0
    #: (impairment, [(value, penalty_db), ...]) with impairment in {"chromatic_dispersion",
    #: "pmd", "pdl"}: CD in ps/nm, PMD in ps, PDL in dB.
    penalties: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()


@dataclass(frozen=True)
class TransceiverType:
    """A transceiver ``type_variety`` with its frequency range and modes."""

    type_variety: str
    f_min_hz: float
    f_max_hz: float
    modes: tuple[TransceiverMode, ...]

    def mode(self, name: str) -> TransceiverMode:
        """The mode called ``name``; DataError listing the available ones otherwise."""
        for m in self.modes:
            if m.name == name:
                return m
        raise DataError(
            f"transceiver {self.type_variety!r} has no mode {name!r}; "
            f"choose one of {[m.name for m in self.modes]}"
        )


@dataclass(frozen=True)
class Equipment:
    """The whole equipment library."""

    amplifiers: Mapping[str, AmplifierType]
    fibres: Mapping[str, FibreType]
    span: SpanRules
    roadms: Mapping[str, RoadmType]
    si: SpectralInfo
    transceivers: Mapping[str, TransceiverType]
    source: str = field(default="<dict>")
    #: Library amplifiers that tsunagu does not model, with the reason (refused on use).
    unsupported_amplifiers: Mapping[str, str] = field(default_factory=dict)

    def fibre(self, type_variety: str, where: str) -> FibreType:
        try:
            return self.fibres[type_variety]
        except KeyError:
            raise DataError(
                f"{where}: fibre type_variety {type_variety!r} is not in the equipment library "
                f"({self.source}); use one of {sorted(self.fibres)}"
            ) from None

    def amplifier(self, type_variety: str, where: str) -> AmplifierType:
        if type_variety in self.unsupported_amplifiers:
            raise DataError(
                f"{where}: amplifier type_variety {type_variety!r} is "
                f"{self.unsupported_amplifiers[type_variety]}; use a single-band Edfa"
            )
        try:
            return self.amplifiers[type_variety]
        except KeyError:
            raise DataError(
                f"{where}: amplifier type_variety {type_variety!r} is not in the equipment "
                f"library ({self.source}); use one of {sorted(self.amplifiers)}"
            ) from None

    def roadm(self, type_variety: str | None, where: str) -> RoadmType:
        key = type_variety or "default"
        try:
            return self.roadms[key]
        except KeyError:
            raise DataError(
                f"{where}: ROADM type_variety {key!r} is not in the equipment library "
                f"({self.source}); use one of {sorted(self.roadms)}"
            ) from None

    def transceiver(self, type_variety: str, where: str) -> TransceiverType:
        try:
            return self.transceivers[type_variety]
        except KeyError:
            raise DataError(
                f"{where}: transceiver type {type_variety!r} is not in the equipment library "
                f"({self.source}); use one of {sorted(self.transceivers)}"
            ) from None


# ---------------------------------------------------------------------------------------------
# Noise-figure models


def _db2lin(x: float) -> float:
    return float(10.0 ** (x / 10.0))


def _lin2db(x: float) -> float:
    return float(10.0 * math.log10(x)) if x > 0.0 else -math.inf


def variable_gain_nf_model(
    gain_min_db: float, gain_max_db: float, nf_min_db: float, nf_max_db: float, where: str = ""
) -> tuple[float, float, float]:
    """NF1, NF2 and ΔP of the two-coil model of a variable-gain EDFA from its NF at max/min gain.

    Solves ``nf_min = NF1 + NF2/G1a_max`` and ``nf_max = NF1 + NF2/G1a_min`` with
    ``G1a_max = G_max - ΔP``, ``G1a_min = G_min - (G_max - G_min) - ΔP`` and ``ΔP = 5 dB``; if
    the solution puts NF2 outside ``NF1 + [0.3, 2] dB`` it clips NF2 and solves for ΔP
    instead (Augé et al., OFC 2019; GNPy ``estimate_nf_model``). Raises DataError when the
    inputs admit no physical two-coil amplifier.
    """
    delta_p = 5.0
    g1a_min = gain_min_db - (gain_max_db - gain_min_db) - delta_p
    g1a_max = gain_max_db - delta_p
    denom = 1.0 / _db2lin(g1a_max) - 1.0 / _db2lin(g1a_min)
    ratio = (_db2lin(nf_min_db) - _db2lin(nf_max_db)) / denom if denom != 0.0 else -1.0
    if ratio <= 0.0:
        raise DataError(
            f"{where}: nf_min={nf_min_db} and nf_max={nf_max_db} with gains "
            f"[{gain_min_db}, {gain_max_db}] dB give no two-stage noise model; "
            "pass nf_min < nf_max and gain_min < gain_flatmax"
        )
    nf2 = _lin2db(ratio)
    nf1 = _lin2db(_db2lin(nf_min_db) - _db2lin(nf2) / _db2lin(g1a_max))
    if not nf1 >= 4.0:
        raise DataError(f"{where}: first-coil noise figure {nf1:.2f} dB < 4 dB; check nf_min")
    if not nf1 + 0.3 < nf2 < nf1 + 2.0:
        nf2 = min(max(nf2, nf1 + 0.3), nf1 + 2.0)
        excess = _db2lin(nf_min_db) - _db2lin(nf1)
        if not excess > 0.0:
            raise DataError(
                f"{where}: nf_min={nf_min_db} leaves no noise for the second coil; "
                "revise nf_min/nf_max"
            )
        g1a_max = _lin2db(_db2lin(nf2) / excess)
        delta_p = gain_max_db - g1a_max
        if not 1.0 < delta_p < 11.0:
            raise DataError(
                f"{where}: the two-coil model needs 1 dB < ΔP < 11 dB (got {delta_p:.2f}); "
                "revise nf_min/nf_max"
            )
    return nf1, nf2, delta_p


@functools.lru_cache(maxsize=65_536)
def amplifier_noise_figure_db(
    amp: AmplifierType,
    gain_db: float,
    input_power_ch_dbm: float = math.nan,
    slot_width_hz: float = 50e9,
) -> float:
    """Noise figure (dB) of an amplifier of ``amp``'s model at gain ``gain_db``.

    ``input_power_ch_dbm`` (per channel) is needed by the OpenROADM models, which specify OSNR
    versus input power per 50 GHz. Below ``gain_min`` the amplifier is padded at its input: the
    padding adds to the NF dB for dB (GNPy convention).
    """
    if amp.model == "dual_stage":
        if amp.preamp is None or amp.booster is None:
            raise DataError(f"dual_stage amplifier {amp.type_variety!r} lacks its stages")
        g1 = amp.preamp.gain_flatmax_db
        nf1 = amplifier_noise_figure_db(amp.preamp, g1, input_power_ch_dbm, slot_width_hz)
        nf2 = amplifier_noise_figure_db(
            amp.booster, gain_db - g1, input_power_ch_dbm + g1, slot_width_hz
        )
        return _lin2db(_db2lin(nf1) + _db2lin(nf2 - g1))
    pad = max(amp.gain_min_db - gain_db, 0.0)
    g = gain_db + pad
    dg = max(amp.gain_flatmax_db - g, 0.0)
    pin50 = input_power_ch_dbm + _lin2db(50e9 / slot_width_hz)
    if amp.model == "variable_gain":
        g1a = g - amp.nf_delta_p_db - dg
        nf = _lin2db(_db2lin(amp.nf1_db) + _db2lin(amp.nf2_db) / _db2lin(g1a))
    elif amp.model == "fixed_gain":
        nf = amp.nf0_db
    elif amp.model == "openroadm":
        nf = pin50 - float(np.polyval(amp.nf_coef, pin50)) + 58.0
    elif amp.model == "openroadm_preamp":
        nf = pin50 - min((4.0 * pin50 + 275.0) / 7.0, 33.0) + 58.0
    elif amp.model == "openroadm_booster":
        nf = -math.inf
    else:  # advanced_model
        nf = float(np.polyval(amp.nf_fit_coeff, -dg))
    return nf + pad


# ---------------------------------------------------------------------------------------------
# Loading


_DB_KEY = re.compile(r"(db|dbm|gain|osnr|nf|power|loss|voa|margin|delta_p|pch|penalty|pdl)", re.I)
_HZ_KEY = re.compile(r"(f_min|f_max|baud_rate|spacing|bit_rate|frequency|^min$|^max$)", re.I)
_MAX_ABS_DB = 200.0
"""A level or ratio beyond ±200 dB (a factor 1e20) is no optical quantity; beyond it the
linear conversions and their squares overflow."""
_MAX_HZ = 1e16
"""Above optical frequencies (about 2e14 Hz) by far; baud and bit rates are far below."""


def sane_number(v: float, key: str, where: str) -> float:
    """``v`` when it is within the physical span of its kind (dB or Hz, by its field name)."""
    if _DB_KEY.search(key) and abs(v) > _MAX_ABS_DB:
        raise DataError(
            f"{where}: field {key!r} is {v:g}, beyond ±{_MAX_ABS_DB:g} dB; "
            "Fix: give the value in dB (or dBm), as GNPy's files do"
        )
    if _HZ_KEY.search(key) and not 0.0 <= v <= _MAX_HZ:
        raise DataError(
            f"{where}: field {key!r} is {v:g}, outside 0..{_MAX_HZ:g} Hz (or bit/s); "
            "Fix: give the value in Hz, as GNPy's files do"
        )
    return v


def _num(d: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    if key not in d or d[key] is None:
        if default is None:
            raise DataError(f"{where}: missing field {key!r} (a number)")
        return default
    v = d[key]
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 1e300:
        raise DataError(f"{where}: field {key!r} is too large a number ({len(str(v))} digits)")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise DataError(f"{where}: field {key!r} must be a finite number, got {v!r}")
    return sane_number(float(v), key, where)


def _ranged(
    d: Mapping[str, Any], key: str, where: str, low: float, high: float, unit: str
) -> float:
    """A required number within its physical range (EDFA gains 0-60 dB, noise figures 0-30 dB,
    output power -20-40 dBm); outside it the noise model overflows or divides by zero."""
    v = _num(d, key, where)
    if not low <= v <= high:
        raise DataError(
            f"{where}: field {key!r} is {v:g}, outside {low:g}..{high:g} {unit}; "
            "Fix: check the value against the amplifier's data sheet"
        )
    return v


def _flag(d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise DataError(f"{where}: field {key!r} must be true or false, got {v!r}")
    return v


def _section(data: Mapping[str, Any], name: str, source: str) -> list[Mapping[str, Any]]:
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DataError(f"{source}: section {name!r} must be a list of objects")
    return items


def _amp_base(
    raw: Mapping[str, Any], base_dir: Path | None, source: str
) -> tuple[str, dict[str, Any]]:
    name = raw.get("type_variety")
    if not isinstance(name, str) or not name:
        raise DataError(f"{source}: an Edfa entry has no 'type_variety' (a string)")
    where = f"{source}: Edfa {name!r}"
    model = raw.get("type_def", "variable_gain")
    if model == "multi_band":
        return name, {"model": "multi_band"}
    if model not in _AMP_MODELS:
        raise DataError(f"{where}: field 'type_def' is {model!r}; supported: {list(_AMP_MODELS)}")
    kw: dict[str, Any] = {
        "type_variety": name,
        "model": model,
        "allowed_for_design": _flag(raw, "allowed_for_design", where, False),
        "out_voa_auto": _flag(raw, "out_voa_auto", where, False),
        "raman": _flag(raw, "raman", where, False),
        "pmd_s": _num(raw, "pmd", where, 0.0),
        "pdl_db": _num(raw, "pdl", where, 0.0),
    }
    if model == "dual_stage":
        for key in ("preamp_variety", "booster_variety"):
            if not isinstance(raw.get(key), str):
                raise DataError(f"{where}: dual_stage needs field {key!r} (an Edfa type_variety)")
        kw["gain_min_db"] = _num(raw, "gain_min", where)
        return name, kw
    kw["gain_flatmax_db"] = _ranged(raw, "gain_flatmax", where, 0.0, 60.0, "dB")
    kw["gain_min_db"] = _ranged(raw, "gain_min", where, 0.0, 60.0, "dB")
    kw["p_max_dbm"] = _ranged(raw, "p_max", where, -20.0, 40.0, "dBm")
    if model == "variable_gain":
        nf_min = _ranged(raw, "nf_min", where, 0.0, 30.0, "dB")
        nf_max = _ranged(raw, "nf_max", where, 0.0, 30.0, "dB")
        nf1, nf2, dp = variable_gain_nf_model(
            kw["gain_min_db"], kw["gain_flatmax_db"], nf_min, nf_max, where
        )
        kw.update(nf1_db=nf1, nf2_db=nf2, nf_delta_p_db=dp)
    elif model == "fixed_gain":
        # Distributed (Raman) amplifiers have equivalent noise figures below 0 dB.
        kw["nf0_db"] = _ranged(raw, "nf0", where, -20.0, 30.0, "dB")
    elif model == "openroadm":
        coef = raw.get("nf_coef")
        if not isinstance(coef, list) or len(coef) == 0:
            raise DataError(f"{where}: openroadm needs field 'nf_coef' (polynomial coefficients)")
        kw["nf_coef"] = tuple(_num({"nf_coef": c}, "nf_coef", where) for c in coef)
    elif model == "advanced_model":
        fname = raw.get("advanced_config_from_json")
        if not isinstance(fname, str):
            raise DataError(f"{where}: advanced_model needs field 'advanced_config_from_json'")
        path = (base_dir / fname) if base_dir is not None else Path(fname)
        try:
            cfg = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise DataError(
                f"{where}: cannot read its advanced_config_from_json file {str(path)!r} ({exc}); "
                "place it next to the equipment file"
            ) from None
        coeff = cfg.get("nf_fit_coeff") if isinstance(cfg, dict) else None
        if not isinstance(coeff, list) or not coeff:
            raise DataError(f"{where}: {path.name} has no 'nf_fit_coeff' list")
        kw["nf_fit_coeff"] = tuple(_num({"nf_fit_coeff": c}, "nf_fit_coeff", where) for c in coeff)
        kw["f_min_hz"] = _num(cfg, "f_min", where, _AMP_F_MIN_HZ)
        kw["f_max_hz"] = _num(cfg, "f_max", where, _AMP_F_MAX_HZ)
    if "f_min" in raw:
        kw["f_min_hz"] = _num(raw, "f_min", where)
        kw["f_max_hz"] = _num(raw, "f_max", where)
    return name, kw


def _load_amplifiers(
    items: Sequence[Mapping[str, Any]],
    base_dir: Path | None,
    source: str,
    unsupported: dict[str, str],
) -> dict[str, AmplifierType]:
    raw_by_name: dict[str, Mapping[str, Any]] = {}
    singles: dict[str, AmplifierType] = {}
    duals: dict[str, dict[str, Any]] = {}
    for raw in items:
        name, kw = _amp_base(raw, base_dir, source)
        raw_by_name[name] = raw
        if kw["model"] == "multi_band":
            unsupported[name] = "a multi_band amplifier (not modelled)"
            continue
        if kw["model"] == "dual_stage":
            duals[name] = kw
        else:
            singles[name] = AmplifierType(**kw)
    out = dict(singles)
    for name, kw in duals.items():
        where = f"{source}: Edfa {name!r}"
        stages = []
        for key in ("preamp_variety", "booster_variety"):
            ref = raw_by_name[name][key]
            if ref not in singles:
                raise DataError(f"{where}: field {key!r} names {ref!r}, not a single-stage Edfa")
            stages.append(singles[ref])
        pre, boost = stages
        if kw["gain_min_db"] < pre.gain_min_db:
            raise DataError(f"{where}: gain_min is below its preamp's gain_min")
        out[name] = AmplifierType(
            **kw,
            gain_flatmax_db=pre.gain_flatmax_db + boost.gain_flatmax_db,
            p_max_dbm=boost.p_max_dbm,
            preamp=pre,
            booster=boost,
            f_min_hz=max(pre.f_min_hz, boost.f_min_hz),
            f_max_hz=min(pre.f_max_hz, boost.f_max_hz),
        )
    return out


def _load_penalties(
    raw: Any, where: str
) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DataError(f"{where}: field 'penalties' must be a list")
    table: dict[str, list[tuple[float, float]]] = {}
    for item in raw:
        if not isinstance(item, dict) or "penalty_value" not in item:
            raise DataError(f"{where}: each penalty needs 'penalty_value' and one impairment")
        keys = [k for k in ("chromatic_dispersion", "pmd", "pdl") if k in item]
        if len(keys) != 1:
            raise DataError(
                f"{where}: a penalty must name one of chromatic_dispersion, pmd, pdl; got {item}"
            )
        table.setdefault(keys[0], []).append(
            (_num(item, keys[0], where), _num(item, "penalty_value", where))
        )
    # a table whose boundaries are all positive starts at (0, 0 dB): no impairment, no
    # penalty (GNPy's reading of the OpenROADM tables)
    for v in table.values():
        if all(x > 0 for x, _ in v):
            v.append((0.0, 0.0))
    return tuple((k, tuple(sorted(v))) for k, v in table.items())


# The C+L band of silica fibre spans about 185-200 THz (ITU-T G.694.1 grid around 193.1 THz);
# an SI band outside 150-250 THz is a unit mistake (Hz expected).
_SI_BAND_HZ = (150e12, 250e12)


def _check_si(si: SpectralInfo, where: str) -> None:
    lo, hi = _SI_BAND_HZ
    if not lo <= si.f_min_hz < si.f_max_hz <= hi:
        raise DataError(
            f"{where}: f_min ({si.f_min_hz:g}) must be below f_max ({si.f_max_hz:g}), both "
            f"in Hz within {lo:g}-{hi:g}; Fix: e.g. f_min 191.35e12, f_max 196.1e12"
        )
    if not si.spacing_hz > 0 or not si.baud_rate_hz > 0:
        raise DataError(
            f"{where}: spacing ({si.spacing_hz:g}) and baud_rate ({si.baud_rate_hz:g}) must be "
            "positive, in Hz; Fix: e.g. spacing 50e9, baud_rate 32e9"
        )
    if si.baud_rate_hz > si.spacing_hz * 2 or si.spacing_hz > si.f_max_hz - si.f_min_hz:
        raise DataError(
            f"{where}: spacing ({si.spacing_hz:g} Hz) must fit the band and carry baud_rate "
            f"({si.baud_rate_hz:g} Hz); Fix: e.g. spacing 50e9 with baud_rate 32e9"
        )
    if not 0.0 <= si.roll_off < 1.0:
        raise DataError(f"{where}: roll_off ({si.roll_off:g}) must lie in [0, 1); Fix: e.g. 0.15")


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


Number = int | float


class _Restrictions(_Shape):
    preamp_variety_list: list[str] | None = None
    booster_variety_list: list[str] | None = None


class _EdfaShape(_Shape):
    type_variety: str | None = None
    type_def: str | None = None
    nf_coef: list[Number] | None = None
    advanced_config_from_json: str | None = None


class _RoadmShape(_Shape):
    type_variety: str | None = None
    restrictions: _Restrictions | None = None


class _ModeShape(_Shape):
    format: str | None = None
    other_name: list[str] | None = None
    penalties: list[dict[str, Any]] | None = None


class _Frequency(_Shape):
    min: Number | None = None
    max: Number | None = None


class _TransceiverShape(_Shape):
    type_variety: str | None = None
    frequency: _Frequency | None = None
    mode: list[_ModeShape] | None = None


class _SpanShape(_Shape):
    delta_power_range_db: list[Number] | None = None
    length_units: str | None = None


class _LibraryShape(_Shape):
    """The types of the equipment library's fields that tsunagu reads (others are ignored)."""

    Edfa: list[_EdfaShape] | None = None
    Fiber: list[dict[str, Any]] | None = None
    RamanFiber: list[dict[str, Any]] | None = None
    Span: list[_SpanShape] | None = None
    Roadm: list[_RoadmShape] | None = None
    SI: list[dict[str, Any]] | None = None
    Transceiver: list[_TransceiverShape] | None = None


def _check_shape(data: Mapping[str, Any], name: str) -> None:
    try:
        _LibraryShape.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        given = first.get("input")
        shown = type(given).__name__ if isinstance(given, dict | list) else repr(given)[:60]
        raise DataError(
            f"{name}: field {loc!r}: {first['msg'].lower()}, got {shown}; "
            "Fix: write the field as GNPy's equipment library format has it"
        ) from None


def load_equipment(source: str | Path | Mapping[str, Any]) -> Equipment:
    """Read a GNPy ``eqpt_config.json`` (path or parsed dict) into an :class:`Equipment`.

    Raises
    ------
    DataError
        Unreadable file, or a field missing or malformed; the message names the section, the
        ``type_variety`` and the field.
    """
    base_dir: Path | None = None
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise DataError(f"cannot read equipment file {str(path)!r}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise DataError(
                f"equipment file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                "Fix: save it as UTF-8 JSON"
            ) from None
        except ValueError as exc:
            raise DataError(f"equipment file {str(path)!r} is not valid JSON: {exc}") from None
        except RecursionError:
            raise DataError(
                f"equipment file {str(path)!r} is nested too deeply to be an equipment library"
            ) from None
        name = path.name
        base_dir = path.parent
    else:
        data = dict(source)
        name = "<equipment dict>"
    if not isinstance(data, dict):
        raise DataError(f"{name}: the equipment file must be a JSON object")
    _check_shape(data, name)

    unsupported: dict[str, str] = {}
    amps = _load_amplifiers(_section(data, "Edfa", name), base_dir, name, unsupported)

    fibres: dict[str, FibreType] = {}
    for raw in _section(data, "Fiber", name) + _section(data, "RamanFiber", name):
        var = raw.get("type_variety")
        if not isinstance(var, str):
            raise DataError(f"{name}: a Fiber entry has no 'type_variety' (a string)")
        where = f"{name}: Fiber {var!r}"
        aeff = raw.get("effective_area")
        if aeff is None and "gamma" in raw:
            gamma = _num(raw, "gamma", where)
            aeff = 2 * math.pi * 2.6e-20 / (1550e-9 * gamma)
        fibres.setdefault(
            var,
            FibreType(
                type_variety=var,
                dispersion_s_per_m2=_num(raw, "dispersion", where, 1.67e-5),
                effective_area_m2=_num({"effective_area": aeff}, "effective_area", where, 83e-12),
                pmd_coef_s_per_sqrt_m=_num(raw, "pmd_coef", where, 0.0),
            ),
        )

    spans = _section(data, "Span", name)
    if not spans:
        span = SpanRules()
    else:
        s = spans[0]
        where = f"{name}: Span"
        rng = s.get("delta_power_range_db", [0, 0, 0.5])
        if (
            not isinstance(rng, list)
            or len(rng) != 3
            or not all(isinstance(x, int | float) for x in rng)
        ):
            raise DataError(f"{where}: field 'delta_power_range_db' must be [min, max, step] in dB")
        units = s.get("length_units", "km")
        scale = {"km": 1.0, "m": 1e-3}.get(units)
        if scale is None:
            raise DataError(f"{where}: field 'length_units' must be 'km' or 'm', got {units!r}")
        max_loss = s.get("max_loss")
        span = SpanRules(
            power_mode=_flag(s, "power_mode", where, True),
            delta_power_range_db=(float(rng[0]), float(rng[1]), float(rng[2])),
            max_fiber_lineic_loss_for_raman_db_per_km=_num(
                s, "max_fiber_lineic_loss_for_raman", where, 0.25
            ),
            target_extended_gain_db=_num(s, "target_extended_gain", where, 2.5),
            max_length_km=_num(s, "max_length", where, 150.0) * scale,
            max_loss_db=None if max_loss is None else _num(s, "max_loss", where),
            padding_db=_num(s, "padding", where, 10.0),
            eol_db=_num(s, "EOL", where, 0.0),
            con_in_db=_num(s, "con_in", where, 0.0),
            con_out_db=_num(s, "con_out", where, 0.0),
            span_loss_ref_db=_num(s, "span_loss_ref", where, 20.0),
            power_slope=_num(s, "power_slope", where, 0.3),
            voa_margin_db=_num(s, "voa_margin", where, 1.0),
            voa_step_db=_num(s, "voa_step", where, 0.5),
        )

    roadms: dict[str, RoadmType] = {}
    for raw in _section(data, "Roadm", name):
        var = raw.get("type_variety", "default")
        where = f"{name}: Roadm {var!r}"
        if "target_pch_out_db" not in raw:
            raise DataError(
                f"{where}: field 'target_pch_out_db' is required (per-channel power equalisation "
                "target, dBm); PSD equalisation targets are not modelled"
            )
        restr = raw.get("restrictions", {}) or {}
        roadms[var] = RoadmType(
            type_variety=var,
            target_pch_out_dbm=_num(raw, "target_pch_out_db", where),
            add_drop_osnr_db=_num(raw, "add_drop_osnr", where, 100.0),
            pmd_s=_num(raw, "pmd", where, 0.0),
            pdl_db=_num(raw, "pdl", where, 0.0),
            preamp_varieties=tuple(restr.get("preamp_variety_list", []) or []),
            booster_varieties=tuple(restr.get("booster_variety_list", []) or []),
            has_path_impairments=bool(raw.get("roadm-path-impairments")),
        )

    sis = _section(data, "SI", name)
    if sis:
        s = sis[0]
        where = f"{name}: SI"
        txp = s.get("tx_power_dbm")
        si = SpectralInfo(
            f_min_hz=_num(s, "f_min", where, 191.35e12),
            f_max_hz=_num(s, "f_max", where, 196.1e12),
            baud_rate_hz=_num(s, "baud_rate", where, 32e9),
            spacing_hz=_num(s, "spacing", where, 50e9),
            power_dbm=_num(s, "power_dbm", where, 0.0),
            tx_power_dbm=None if txp is None else _num(s, "tx_power_dbm", where),
            roll_off=_num(s, "roll_off", where, 0.15),
            tx_osnr_db=_num(s, "tx_osnr", where, 45.0),
            sys_margins_db=_num(s, "sys_margins", where, 0.0),
            use_si_channel_count_for_design=_flag(
                s, "use_si_channel_count_for_design", where, False
            ),
        )
        _check_si(si, where)
    else:
        si = SpectralInfo()

    trxs: dict[str, TransceiverType] = {}
    for raw in _section(data, "Transceiver", name):
        var = raw.get("type_variety")
        if not isinstance(var, str):
            raise DataError(f"{name}: a Transceiver entry has no 'type_variety' (a string)")
        where = f"{name}: Transceiver {var!r}"
        freq = raw.get("frequency") or {}
        modes: list[TransceiverMode] = []
        raw_modes = raw.get("mode", [])
        if not isinstance(raw_modes, list):
            raise DataError(f"{where}: field 'mode' must be a list")
        for m in raw_modes:
            fmt = m.get("format")
            mwhere = f"{where} mode {fmt!r}"
            if not isinstance(fmt, str):
                raise DataError(f"{where}: a mode has no 'format' (its name)")
            names = [fmt, *[str(x) for x in (m.get("other_name") or [])]]
            modes.extend(
                TransceiverMode(
                    name=alias,
                    baud_rate_hz=_num(m, "baud_rate", mwhere),
                    required_osnr_db=_num(m, "OSNR", mwhere),
                    bit_rate_bps=_num(m, "bit_rate", mwhere),
                    roll_off=_num(m, "roll_off", mwhere, si.roll_off),
                    tx_osnr_db=_num(m, "tx_osnr", mwhere, si.tx_osnr_db),
                    min_spacing_hz=_num(m, "min_spacing", mwhere),
                    cost=_num(m, "cost", mwhere, 1.0),
                    equalization_offset_db=_num(m, "equalization_offset_db", mwhere, 0.0),
                    penalties=_load_penalties(m.get("penalties"), mwhere),
                )
                for alias in names
            )
        trxs[var] = TransceiverType(
            type_variety=var,
            f_min_hz=_num(freq, "min", where + " frequency", si.f_min_hz),
            f_max_hz=_num(freq, "max", where + " frequency", si.f_max_hz),
            modes=tuple(modes),
        )

    return Equipment(
        amplifiers=amps,
        fibres=fibres,
        span=span,
        roadms=roadms,
        si=si,
        transceivers=trxs,
        source=name,
        unsupported_amplifiers=unsupported,
    )
