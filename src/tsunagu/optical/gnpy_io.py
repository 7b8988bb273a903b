"""GNPy interoperability: topology JSON, path-request JSON, automatic design and QoT of requests.

A GNPy user's files run unchanged: :func:`load_topology` reads the element/connection JSON
(``Transceiver``, ``Roadm``, ``Fiber``, ``Edfa``, ``Fused``), :func:`load_requests` the IETF
TEAS path-computation request JSON, and :func:`tsunagu.optical.equipment.load_equipment` the
``eqpt_config.json``. :func:`design_network` completes a topology the way GNPy's automatic
design does (the published rules of J.-L. Augé, V. Curri, E. Le Rouzic, "Open design for
multi-vendor optical networks", OFC 2019, as documented for GNPy 3.0.1):

1. fibres longer than ``Span.max_length`` are split into equal spans near 90 km;
2. missing pre-amplifiers (fibre → ROADM), boosters (ROADM → fibre) and in-line amplifiers
   (fibre → fibre) are inserted;
3. connector losses default to ``Span.con_in/con_out`` (+ ``EOL``); spans below
   ``Span.padding`` get an input attenuator up to it;
4. in power mode each amplifier's output power offset is ``ΔP = clip(round((L_span -
   span_loss_ref) · power_slope, step))`` (0 before a ROADM), its gain ``G = L_prev + ΔP -
   ΔP_prev``, and an amplifier without ``type_variety`` gets the lowest-noise library amplifier
   that meets gain and power (with the ``target_extended_gain`` allowance).

:func:`compute_requests` then finds each request's path (shortest fibre length through explicit
route objects), propagates a full-load comb of its mode — once per optical multiplex section
(OMS, ROADM to ROADM, whose powers do not depend on the lightpath), then composed along every
lightpath at once (see :func:`tsunagu.optical.qot.compose_noise_shares`) — picks the
highest-rate mode whose worst channel clears its OSNR plus the system margin and its CD/PMD/PDL
penalties, and assigns spectrum first-fit. Not modelled (refused with an error naming the
element): Raman fibres, multi-band amplifiers, PSD equalisation, ROADM path impairment
profiles, frequency-dependent loss, lumped losses; disjunction constraints between requests
are not enforced (listed in each result's notes); identical requests are not merged as GNPy
does.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.sparse import csr_matrix

from tsunagu.errors import DataError
from tsunagu.net.paths import shortest_paths, walk
from tsunagu.optical.equipment import (
    AmplifierType,
    Equipment,
    TransceiverMode,
    amplifier_noise_figure_db,
)
from tsunagu.optical.equipment import sane_number as _sane
from tsunagu.optical.qot import (
    QotResult,
    ase_inverse_snr,
    channel_comb_hz,
    compose_noise_segments,
    compose_noise_shares,
    nli_inverse_snr,
    noise_share_factors,
    qot_from_inverse_snr,
)
from tsunagu.optical.spectrum import SpectrumGrid, fit_starts, flexgrid_n_m

__all__ = [
    "BlockingReason",
    "Element",
    "OpticalNetwork",
    "PathRequest",
    "RequestResult",
    "compute_requests",
    "design_network",
    "load_requests",
    "load_topology",
    "network_to_json",
]

log = logging.getLogger(__name__)

ElementKind = Literal["Transceiver", "Roadm", "Fiber", "Edfa", "Fused"]
_KINDS: tuple[str, ...] = ElementKind.__args__  # type: ignore[attr-defined]
BlockingReason = Literal[
    "NO_PATH",
    "NO_SPECTRUM",
    "NO_FEASIBLE_MODE",
    "MODE_NOT_FEASIBLE",
    "NO_FEASIBLE_BAUDRATE_WITH_SPACING",
]
#: Guard band kept inside the amplifier band edges for spectrum assignment (GNPy default).
_GUARD_BAND_HZ = 25e9
#: C band of the default EDFA (GNPy DEFAULT_EDFA_CONFIG): spectrum 191.3-196.1 THz after guards.
_AMP_BAND_HZ = (191.275e12, 196.125e12)
#: Edge weight of every non-fibre hop in the path search (GNPy uses 0.01).
_HOP_WEIGHT = 0.01
_ROADM_ADD_DROP_SPLIT_DB = 10.0 * math.log10(2.0)
#: Longest fibre accepted: the Earth's circumference (a longer one is a unit error).
_MAX_FIBRE_KM = 40_075.0
#: Highest fibre loss coefficient accepted (dB/km); telecom fibres lie at 0.15-0.4.
_MAX_LOSS_DB_PER_KM = 5.0


@dataclass
class Element:
    """One network element (mutable only inside :func:`design_network`, which copies)."""

    uid: str
    kind: ElementKind
    type_variety: str = ""
    city: str = ""
    # Fiber
    length_km: float = 0.0
    loss_db_per_km: float = 0.0
    con_in_db: float | None = None
    con_out_db: float | None = None
    att_in_db: float = 0.0
    dispersion_s_per_m2: float = 1.67e-5
    effective_area_m2: float = 83e-12
    pmd_coef_s_per_sqrt_m: float = 0.0
    # Edfa
    gain_target_db: float | None = None
    delta_p_db: float | None = None
    out_voa_db: float | None = None
    in_voa_db: float = 0.0
    # Roadm
    target_pch_out_dbm: float = -20.0
    per_degree_pch_out_dbm: dict[str, float] = field(default_factory=dict)
    add_drop_osnr_db: float = 100.0
    preamp_varieties: tuple[str, ...] = ()
    booster_varieties: tuple[str, ...] = ()
    # Fused
    loss_db: float = 1.0
    # Roadm: polarisation impairments of every path through it (GNPy Roadm 'pmd', 'pdl')
    pmd_s: float = 0.0
    pdl_db: float = 0.0

    @property
    def fibre_loss_db(self) -> float:
        """Total loss of a fibre (length · coefficient + connectors + padding), dB."""
        return (
            self.loss_db_per_km * self.length_km
            + (self.con_in_db or 0.0)
            + (self.con_out_db or 0.0)
            + self.att_in_db
        )

    @property
    def passive_loss_db(self) -> float:
        if self.kind == "Fiber":
            return self.fibre_loss_db
        if self.kind == "Fused":
            return self.loss_db
        return 0.0


@dataclass
class OpticalNetwork:
    """Elements and directed connections; ``designed`` once :func:`design_network` ran."""

    elements: list[Element]
    edges: list[tuple[int, int]]
    name: str = ""
    designed: bool = False

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self.index = {e.uid: i for i, e in enumerate(self.elements)}
        self.succ: list[list[int]] = [[] for _ in self.elements]
        self.pred: list[list[int]] = [[] for _ in self.elements]
        for a, b in self.edges:
            self.succ[a].append(b)
            self.pred[b].append(a)

    def element(self, uid: str) -> Element:
        try:
            return self.elements[self.index[uid]]
        except KeyError:
            raise DataError(f"no element with uid {uid!r} in the topology") from None


# ---------------------------------------------------------------------------------------------
# Reading


def _read_json(source: str | Path | Mapping[str, Any], what: str) -> tuple[dict[str, Any], str]:
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise DataError(f"cannot read {what} file {str(path)!r}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{what} file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                "Fix: save it as UTF-8 JSON"
            ) from None
        except ValueError as exc:
            raise DataError(f"{what} file {str(path)!r} is not valid JSON: {exc}") from None
        except RecursionError:
            raise DataError(
                f"{what} file {str(path)!r} is nested too deeply to be a GNPy {what} file"
            ) from None
        name = path.name
    else:
        data = dict(source)
        name = f"<{what} dict>"
    if not isinstance(data, dict):
        raise DataError(f"{name}: a {what} file must be a JSON object")
    return data, name


_MAX_CHANNELS = int(100e12 / 6.25e9)
"""Upper bound of a channel count: 6.25 GHz slots across 150-250 THz."""

# Shapes of the GNPy files: the types of every field tsunagu reads (other fields are kept and
# ignored), checked before any value is used so a wrong type is one error naming the field.


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Location(_Shape):
    city: str | None = None


class _Metadata(_Shape):
    location: _Location | None = None


class _ElementShape(_Shape):
    uid: str | None = None
    type: str | None = None
    type_variety: str | None = None
    params: dict[str, Any] | None = None
    metadata: _Metadata | None = None
    operational: dict[str, Any] | None = None


class _ConnectionShape(_Shape):
    from_node: str
    to_node: str


class _TopologyShape(_Shape):
    elements: list[dict[str, Any]]
    connections: list[dict[str, Any]]
    network_name: str | None = None


class _HopShape(_Shape):
    node_id: str = Field(alias="node-id")
    hop_type: str | None = Field(default=None, alias="hop-type")


class _RouteObject(_Shape):
    index: int | float | None = None
    hop: _HopShape | None = Field(default=None, alias="num-unnum-hop")


class _Ero(_Shape):
    objects: list[_RouteObject] | None = Field(default=None, alias="route-object-include-exclude")


class _TeBandwidth(_Shape):
    trx_type: str | None = None
    trx_mode: str | int | float | None = None


class _Constraints(_Shape):
    te: _TeBandwidth | None = Field(default=None, alias="te-bandwidth")


class _RequestShape(_Shape):
    request_id: str | int | None = Field(default=None, alias="request-id")
    source: str | None = None
    destination: str | None = None
    constraints: _Constraints | None = Field(default=None, alias="path-constraints")
    ero: _Ero | None = Field(default=None, alias="explicit-route-objects")


class _Svec(_Shape):
    ids: list[str | int] | None = Field(default=None, alias="request-id-number")


class _Sync(_Shape):
    svec: _Svec | None = None


class _RequestsShape(_Shape):
    requests: list[dict[str, Any]] = Field(alias="path-request")
    synchronization: list[_Sync] | None = None


def _shape(model: type[BaseModel], data: Any, where: str) -> None:
    """Check ``data`` against ``model``; the error names the first wrong field and its type."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        given = first.get("input")
        shown = type(given).__name__ if isinstance(given, dict | list) else repr(given)[:60]
        raise DataError(
            f"{where}: field {loc!r}: {first['msg'].lower()}, got {shown} "
            f"({exc.error_count()} problem{'s' if exc.error_count() > 1 else ''}); "
            "Fix: write the field as GNPy's JSON format has it"
        ) from None


def _fnum(d: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    v = d.get(key)
    if v is None:
        if default is None:
            raise DataError(f"{where}: missing field {key!r} (a number)")
        return default
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 1e300:
        raise DataError(f"{where}: field {key!r} is too large a number ({len(str(v))} digits)")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise DataError(f"{where}: field {key!r} must be a finite number, got {v!r}")
    return _sane(float(v), key, where)


def _in_range(where: str, key: str, value: float, low: float, high: float, unit: str) -> None:
    """Physical range of a GNPy field: outside it the QoT formulas overflow or mean nothing."""
    if not low <= value <= high:
        raise DataError(
            f"{where}: field {key!r} is {value:g}, outside {low:g}..{high:g} {unit}; "
            "Fix: check the value and its unit (GNPy uses SI units)"
        )


def _opt(d: Mapping[str, Any], key: str, where: str) -> float | None:
    return None if d.get(key) is None else _fnum(d, key, where)


def _element_from_json(raw: Any, i: int, eq: Equipment, name: str) -> Element:
    if not isinstance(raw, dict):
        raise DataError(f"{name}: elements[{i}] must be an object")
    uid = raw.get("uid")
    if not isinstance(uid, str) or not uid:
        raise DataError(f"{name}: elements[{i}] has no 'uid' (a non-empty string)")
    _shape(_ElementShape, raw, f"{name}: element {uid!r}")
    kind = raw.get("type")
    where = f"{name}: element {uid!r}"
    if kind == "RamanFiber" or kind == "Multiband_amplifier":
        raise DataError(
            f"{where}: field 'type' is {kind!r}, which tsunagu does not model; use "
            "'Fiber' or 'Edfa'"
        )
    if kind not in _KINDS:
        raise DataError(f"{where}: field 'type' is {kind!r}; expected one of {list(_KINDS)}")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise DataError(f"{where}: field 'params' must be an object")
    variety = raw.get("type_variety", "")
    if not isinstance(variety, str):
        raise DataError(f"{where}: field 'type_variety' must be a string")
    meta = raw.get("metadata") or {}
    city = ((meta.get("location") or {}).get("city") or "") if isinstance(meta, dict) else ""
    el = Element(uid=uid, kind=kind, type_variety=variety, city=str(city))
    if kind == "Fiber":
        fib = eq.fibre(variety or "SSMF", where)
        units = params.get("length_units", "km")
        scale = {"km": 1.0, "m": 1e-3}.get(units)
        if scale is None:
            raise DataError(f"{where}: field 'length_units' must be 'km' or 'm', got {units!r}")
        if isinstance(params.get("loss_coef"), dict):
            raise DataError(
                f"{where}: field 'loss_coef' is frequency dependent; tsunagu needs one number "
                "in dB/km"
            )
        el.length_km = _fnum(params, "length", where) * scale
        el.loss_db_per_km = _fnum(params, "loss_coef", where)
        if not 0.0 < el.length_km <= _MAX_FIBRE_KM:
            raise DataError(
                f"{where}: field 'length' must lie in (0, {_MAX_FIBRE_KM:g}] km, got "
                f"{el.length_km:g} km; check 'length_units'"
            )
        if not 0.0 < el.loss_db_per_km <= _MAX_LOSS_DB_PER_KM:
            raise DataError(
                f"{where}: field 'loss_coef' must lie in (0, {_MAX_LOSS_DB_PER_KM:g}] dB/km "
                f"(SSMF: 0.2), got {el.loss_db_per_km:g}"
            )
        el.con_in_db = _opt(params, "con_in", where)
        el.con_out_db = _opt(params, "con_out", where)
        el.att_in_db = _fnum(params, "att_in", where, 0.0)
        el.type_variety = fib.type_variety
        el.dispersion_s_per_m2 = _fnum(params, "dispersion", where, fib.dispersion_s_per_m2)
        el.effective_area_m2 = _fnum(params, "effective_area", where, fib.effective_area_m2)
        el.pmd_coef_s_per_sqrt_m = _fnum(params, "pmd_coef", where, fib.pmd_coef_s_per_sqrt_m)
        _in_range(where, "dispersion", el.dispersion_s_per_m2, -1e-4, 1e-4, "s/m² (SSMF 1.67e-05)")
        _in_range(where, "effective_area", el.effective_area_m2, 1e-12, 1e-9, "m² (SSMF 8.3e-11)")
        _in_range(where, "pmd_coef", el.pmd_coef_s_per_sqrt_m, 0.0, 1e-12, "s/√m (SSMF 1.3e-15)")
        for key, value in (("con_in", el.con_in_db), ("con_out", el.con_out_db)):
            if value is not None:
                _in_range(where, key, value, 0.0, 30.0, "dB")
        _in_range(where, "att_in", el.att_in_db, 0.0, 30.0, "dB")
        if params.get("lumped_losses"):
            raise DataError(f"{where}: field 'lumped_losses' is not modelled; remove it")
    elif kind == "Edfa":
        if variety not in ("", "default"):
            eq.amplifier(variety, where)
        else:
            el.type_variety = ""
        op = raw.get("operational") or {}
        if not isinstance(op, dict):
            raise DataError(f"{where}: field 'operational' must be an object")
        el.gain_target_db = _opt(op, "gain_target", where)
        el.delta_p_db = _opt(op, "delta_p", where)
        el.out_voa_db = _opt(op, "out_voa", where)
        el.in_voa_db = _fnum(op, "in_voa", where, 0.0)
        for key, value in (
            ("gain_target", el.gain_target_db),
            ("delta_p", el.delta_p_db),
            ("out_voa", el.out_voa_db),
            ("in_voa", el.in_voa_db),
        ):
            if value is not None:
                _in_range(where, key, value, -60.0, 60.0, "dB")
    elif kind == "Roadm":
        rt = eq.roadm(variety or None, where)
        if rt.has_path_impairments:
            raise DataError(
                f"{where}: field 'type_variety' names ROADM {rt.type_variety!r}, whose "
                "roadm-path-impairments profiles are not modelled; use a ROADM type with "
                "target_pch_out_db and add_drop_osnr"
            )
        el.type_variety = rt.type_variety
        for key in ("target_psd_out_mWperGHz", "target_out_mWperSlotWidth"):
            if key in params:
                raise DataError(
                    f"{where}: field {key!r} (PSD equalisation) is not modelled; use "
                    "'target_pch_out_db'"
                )
        el.target_pch_out_dbm = _fnum(params, "target_pch_out_db", where, rt.target_pch_out_dbm)
        per = params.get("per_degree_pch_out_db") or {}
        if not isinstance(per, dict):
            raise DataError(f"{where}: field 'per_degree_pch_out_db' must be an object")
        el.per_degree_pch_out_dbm = {
            str(k): _fnum(per, k, where + " per_degree_pch_out_db") for k in per
        }
        el.add_drop_osnr_db = _fnum(params, "add_drop_osnr", where, rt.add_drop_osnr_db)
        el.pmd_s = _fnum(params, "pmd", where, rt.pmd_s)
        el.pdl_db = _fnum(params, "pdl", where, rt.pdl_db)
        restr = params.get("restrictions") or {}
        if not isinstance(restr, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v)
            for v in (
                restr.get("preamp_variety_list") or [],
                restr.get("booster_variety_list") or [],
            )
        ):
            raise DataError(
                f"{where}: field 'restrictions' must be an object of lists of amplifier "
                "type_variety names"
            )
        el.preamp_varieties = tuple(restr.get("preamp_variety_list") or rt.preamp_varieties)
        el.booster_varieties = tuple(restr.get("booster_variety_list") or rt.booster_varieties)
    elif kind == "Fused":
        el.loss_db = _fnum(params, "loss", where, 1.0)
    return el


def load_topology(source: str | Path | Mapping[str, Any], equipment: Equipment) -> OpticalNetwork:
    """Read a GNPy topology JSON (path or parsed dict).

    Raises
    ------
    DataError
        Unreadable file, unknown element type or equipment ``type_variety``, missing or
        malformed field, connection to an unknown uid; the message names the element uid and
        the field.
    """
    data, name = _read_json(source, "topology")
    raw_elements = data.get("elements")
    raw_conns = data.get("connections")
    if not isinstance(raw_elements, list):
        raise DataError(f"{name}: missing 'elements' list")
    if not isinstance(raw_conns, list):
        raise DataError(f"{name}: missing 'connections' list")
    elements = [_element_from_json(raw, i, equipment, name) for i, raw in enumerate(raw_elements)]
    index: dict[str, int] = {}
    for i, el in enumerate(elements):
        if el.uid in index:
            raise DataError(f"{name}: element uid {el.uid!r} appears twice; uids must be unique")
        index[el.uid] = i
    edges: list[tuple[int, int]] = []
    for k, c in enumerate(raw_conns):
        if not isinstance(c, dict):
            raise DataError(f"{name}: connections[{k}] must be an object")
        _shape(_ConnectionShape, c, f"{name}: connections[{k}]")
        ends = []
        for key in ("from_node", "to_node"):
            uid = c.get(key)
            if uid not in index:
                raise DataError(
                    f"{name}: connections[{k}] field {key!r} names {uid!r}, which is not an "
                    "element uid"
                )
            ends.append(index[uid])
        edges.append((ends[0], ends[1]))
    net = OpticalNetwork(elements=elements, edges=edges, name=str(data.get("network_name") or ""))
    for i, el in enumerate(elements):
        if el.kind in ("Fiber", "Edfa", "Fused") and (
            len(net.succ[i]) != 1 or len(net.pred[i]) != 1
        ):
            raise DataError(
                f"{name}: element {el.uid!r} ({el.kind}) has {len(net.pred[i])} inputs and "
                f"{len(net.succ[i])} outputs in 'connections'; a {el.kind} needs exactly one each"
            )
    return net


# ---------------------------------------------------------------------------------------------
# Automatic design


def _round_step(x: float, step: float) -> float:
    step = max(step, 0.01)
    return round(round(x / step) * step, 2)


def _split_length(
    length_km: float, min_km: float, max_km: float, target_km: float
) -> tuple[float, int]:
    """Equal span length and count for a fibre over the length bound (GNPy's rule)."""
    if length_km < max_km:
        return length_km, 1
    n2 = int(length_km // target_km)
    n1 = n2 + 1
    l1, l2 = length_km / n1, length_km / (n2 if n2 else 1)

    def ok(x: float) -> bool:
        return min_km <= x <= max_km

    if ok(l1) and not ok(l2):
        return l1, n1
    if ok(l2) and not ok(l1):
        return l2, n2
    if n2 and l2 - target_km <= target_km - l1 and l2 <= max_km:
        return l2, n2
    return l1, n1


class _Builder:
    """Mutable copy of a network used while inserting elements."""

    def __init__(self, net: OpticalNetwork) -> None:
        self.elements = [copy.copy(e) for e in net.elements]
        for e in self.elements:
            e.per_degree_pch_out_dbm = dict(e.per_degree_pch_out_dbm)
        self.succ: dict[int, list[int]] = {i: list(s) for i, s in enumerate(net.succ)}
        self.preds: dict[int, list[int]] = {i: list(p) for i, p in enumerate(net.pred)}
        self.removed: set[int] = set()

    def add(self, el: Element) -> int:
        self.elements.append(el)
        i = len(self.elements) - 1
        self.succ[i] = []
        self.preds[i] = []
        return i

    def set_succ(self, a: int, new: list[int]) -> None:
        """Replace the outputs of ``a``, keeping the reverse map in step."""
        for x in self.succ[a]:
            self.preds[x].remove(a)
        for x in new:
            self.preds[x].append(a)
        self.succ[a] = list(new)

    def pred(self, j: int) -> list[int]:
        return [i for i in self.preds[j] if i not in self.removed]

    def finish(self, name: str) -> OpticalNetwork:
        keep = [i for i in range(len(self.elements)) if i not in self.removed]
        new_index = {old: k for k, old in enumerate(keep)}
        edges = [(new_index[a], new_index[b]) for a in keep for b in self.succ[a] if b in new_index]
        return OpticalNetwork([self.elements[i] for i in keep], edges, name=name, designed=True)


def _insert_topology_elements(net: OpticalNetwork, eq: Equipment) -> OpticalNetwork:
    b = _Builder(net)
    span = eq.span
    min_km = max(float(int(span.padding_db / 0.2 * 1e3)) / 1e3, 50.0)
    max_km = float(int(span.max_length_km * 1e3)) / 1e3
    target_km = max(min_km, min(max_km, 90.0))
    # 1. split long fibres
    for i in range(len(net.elements)):
        el = b.elements[i]
        if el.kind != "Fiber":
            continue
        length, n = _split_length(el.length_km, min_km, max_km, target_km)
        if n == 1:
            continue
        nxt = b.succ[i][0]
        chain: list[int] = []
        for k in range(n):
            piece = replace(el, uid=f"{el.uid}_({k + 1}/{n})", length_km=length)
            chain.append(b.add(piece))
        for a, c in itertools.pairwise(chain):
            b.set_succ(a, [c])
        b.set_succ(chain[-1], [nxt])
        for p in b.pred(i):
            b.set_succ(p, [chain[0] if x == i else x for x in b.succ[p]])
        b.removed.add(i)
        b.set_succ(i, [])
    # 2. ROADM pre-amplifiers and boosters
    for i, el in enumerate(list(b.elements)):
        if i in b.removed or el.kind != "Roadm":
            continue
        for p in b.pred(i):
            if b.elements[p].kind not in ("Transceiver", "Fused", "Edfa"):
                amp = b.add(
                    Element(
                        uid=f"Edfa_preamp_{el.uid}_from_{b.elements[p].uid}",
                        kind="Edfa",
                        city=el.city,
                    )
                )
                b.set_succ(p, [amp if x == i else x for x in b.succ[p]])
                b.set_succ(amp, [i])
        for k, s in enumerate(list(b.succ[i])):
            if b.elements[s].kind not in ("Transceiver", "Fused", "Edfa"):
                amp = b.add(
                    Element(
                        uid=f"Edfa_booster_{el.uid}_to_{b.elements[s].uid}",
                        kind="Edfa",
                        city=el.city,
                    )
                )
                b.set_succ(i, [amp if n == k else x for n, x in enumerate(b.succ[i])])
                b.set_succ(amp, [s])
    # 3. in-line amplifiers between consecutive fibres
    for i, el in enumerate(list(b.elements)):
        if i in b.removed or el.kind != "Fiber":
            continue
        nxt = b.succ[i][0]
        if b.elements[nxt].kind == "Fiber":
            amp = b.add(Element(uid=f"Edfa_{el.uid}", kind="Edfa", city=el.city))
            b.set_succ(i, [amp])
            b.set_succ(amp, [nxt])
    return b.finish(net.name)


def _chain_loss(net: OpticalNetwork, i: int) -> float:
    """Loss of the passive span containing element i: fibres and fused joined through Fused."""
    el = net.elements[i]
    if el.kind not in ("Fiber", "Fused"):
        return 0.0
    total = el.passive_loss_db
    seen = {i}
    for nbrs in (net.pred, net.succ):
        cur = i
        while True:
            nxt = nbrs[cur][0] if nbrs[cur] else None
            if nxt is None or nxt in seen:
                break
            a, c = net.elements[cur], net.elements[nxt]
            if (c.kind == "Fused" and a.kind in ("Fiber", "Fused")) or (
                c.kind in ("Fiber", "Fused") and a.kind == "Fused"
            ):
                total += c.passive_loss_db
                seen.add(nxt)
                cur = nxt
            else:
                break
    return total


def _first_of_chain(net: OpticalNetwork, i: int) -> int:
    cur = i
    seen = {i}
    while net.pred[cur]:
        p = net.pred[cur][0]
        a, c = net.elements[cur], net.elements[p]
        if p in seen or not (
            (c.kind == "Fused" and a.kind in ("Fiber", "Fused"))
            or (c.kind in ("Fiber", "Fused") and a.kind == "Fused")
        ):
            break
        seen.add(p)
        cur = p
    return cur


def _set_fibre_attributes(net: OpticalNetwork, eq: Equipment) -> None:
    span = eq.span
    fibres = [i for i, e in enumerate(net.elements) if e.kind == "Fiber"]
    for i in fibres:
        el = net.elements[i]
        if el.con_in_db is None:
            el.con_in_db = span.con_in_db
        if el.con_out_db is None:
            el.con_out_db = span.con_out_db
            if net.elements[net.succ[i][0]].kind != "Fused":
                el.con_out_db += span.eol_db
    for i in fibres:
        if net.elements[net.succ[i][0]].kind == "Fused":
            continue
        loss = _chain_loss(net, i)
        if loss < span.padding_db:
            first = _first_of_chain(net, i)
            if net.elements[first].kind == "Fiber":
                net.elements[first].att_in_db += span.padding_db - loss


def _target_delta_p(net: OpticalNetwork, nxt: int, eq: Equipment) -> float:
    """Output power offset of an amplifier from the span it feeds (OFC 2019 eq. 4)."""
    if net.elements[nxt].kind == "Roadm":
        return 0.0
    lo, hi, step = eq.span.delta_power_range_db
    dp = _round_step((_chain_loss(net, nxt) - eq.span.span_loss_ref_db) * eq.span.power_slope, step)
    return min(max(dp, lo), hi)


def _select_amplifier(
    candidates: Sequence[AmplifierType],
    gain_db: float,
    power_target_dbm: float,
    extended_gain_db: float,
    raman_allowed: bool,
    uid: str,
) -> tuple[AmplifierType, float]:
    """Lowest-NF amplifier meeting gain and output power; returns it and the power reduction."""
    pin = power_target_dbm - gain_db
    rows: list[tuple[AmplifierType, float, float, float, bool]] = []
    for amp in candidates:
        if amp.raman and not raman_allowed:
            continue
        power = min(pin + amp.gain_flatmax_db + extended_gain_db, amp.p_max_dbm) - power_target_dbm
        gmin = gain_db - amp.gain_min_db + (0.0 if amp.raman else 3.0)
        nf = amplifier_noise_figure_db(amp, gain_db, 0.0 - 10 * math.log10(88))
        rows.append((amp, power, gmin, nf, amp.raman))
    # EDFAs first, then Raman hybrids (GNPy's list order)
    rows.sort(key=lambda r: r[4])
    ok_gain = [r for r in rows if r[2] > 0.0]
    if not ok_gain:
        ok_gain = [r for r in rows if not r[4]]
        if not ok_gain:
            raise DataError(
                f"amplifier {uid!r}: no amplifier of the library meets a gain of {gain_db:.1f} dB; "
                "add one with gain_min below it or increase Span.padding"
            )
    ok_power = [r for r in ok_gain if r[1] > 0.0]
    if not ok_power:
        best = max(r[1] for r in ok_gain)
        ok_power = [r for r in ok_gain if r[1] - best > -0.3]
    chosen = min(ok_power, key=lambda r: r[3])
    return chosen[0], min(chosen[1], 0.0)


def _design_amplifiers(net: OpticalNetwork, eq: Equipment, pref_ch_dbm: float, nch: int) -> None:
    span = eq.span
    pref_total = pref_ch_dbm + 10.0 * math.log10(nch)
    # amplifiers allowed for design whose band holds the design (SI) band, as GNPy filters
    design_pool = [
        a
        for a in eq.amplifiers.values()
        if a.allowed_for_design and a.f_min_hz <= eq.si.f_min_hz and a.f_max_hz >= eq.si.f_max_hz
    ]
    starts = [i for i, e in enumerate(net.elements) if e.kind in ("Roadm", "Transceiver")]
    for start in starts:
        src = net.elements[start]
        for first in net.succ[start]:
            if net.elements[first].kind in ("Transceiver", "Roadm"):
                continue
            if src.kind == "Roadm":
                out = src.per_degree_pch_out_dbm.get(
                    net.elements[first].uid, src.target_pch_out_dbm
                )
            else:
                out = eq.si.tx_power_dbm if eq.si.tx_power_dbm is not None else pref_ch_dbm
            prev_dp = out - pref_ch_dbm
            prev_voa = 0.0
            prev, node = start, first
            seen: set[int] = set()
            while net.elements[node].kind not in ("Roadm", "Transceiver"):
                if node in seen:
                    raise DataError(
                        f"element {net.elements[node].uid!r} lies on a loop of connections"
                    )
                seen.add(node)
                el = net.elements[node]
                nxt = net.succ[node][0]
                if el.kind == "Edfa":
                    loss = _chain_loss(net, prev)
                    dp = (
                        el.delta_p_db
                        if el.delta_p_db is not None
                        else _target_delta_p(net, nxt, eq)
                    )
                    if span.power_mode or el.gain_target_db is None:
                        gain = loss + dp - prev_dp + prev_voa + el.in_voa_db
                    else:
                        gain = el.gain_target_db
                        dp = prev_dp - loss - prev_voa + gain - el.in_voa_db
                    power_target = pref_total + dp
                    prev_el = net.elements[prev]
                    raman_allowed = (
                        prev_el.kind == "Fiber"
                        and prev_el.loss_db_per_km < span.max_fiber_lineic_loss_for_raman_db_per_km
                    )
                    if not el.type_variety:
                        pool = design_pool
                        if prev_el.kind == "Roadm" and prev_el.booster_varieties:
                            pool = [eq.amplifier(v, el.uid) for v in prev_el.booster_varieties]
                        elif (
                            net.elements[nxt].kind == "Roadm" and net.elements[nxt].preamp_varieties
                        ):
                            pool = [
                                eq.amplifier(v, el.uid) for v in net.elements[nxt].preamp_varieties
                            ]
                        if not pool:
                            raise DataError(
                                f"amplifier {el.uid!r}: no amplifier in the library is "
                                "allowed_for_design; set type_variety or allow one"
                            )
                        amp, reduction = _select_amplifier(
                            pool,
                            gain,
                            power_target,
                            span.target_extended_gain_db,
                            raman_allowed,
                            el.uid,
                        )
                        el.type_variety = amp.type_variety
                    else:
                        amp = eq.amplifier(el.type_variety, el.uid)
                        if span.power_mode:
                            reduction = min(0.0, amp.p_max_dbm - (pref_total + dp))
                        else:
                            pout = pref_total + prev_dp - loss - prev_voa + gain
                            reduction = min(0.0, amp.p_max_dbm - pout)
                    dp += reduction
                    gain += reduction
                    voa = 0.0
                    if el.out_voa_db is None:
                        if span.power_mode and amp.out_voa_auto:
                            v = min(amp.p_max_dbm - power_target, amp.gain_flatmax_db - gain)
                            voa = max(_round_step(v, span.voa_step_db) - span.voa_margin_db, 0.0)
                            dp += voa
                            gain += voa
                        el.out_voa_db = voa
                    else:
                        voa = el.out_voa_db
                    el.gain_target_db = gain
                    if span.power_mode:
                        el.delta_p_db = dp
                    prev_dp, prev_voa = dp, voa
                prev, node = node, nxt


def design_network(
    net: OpticalNetwork, equipment: Equipment, *, power_dbm: float | None = None
) -> OpticalNetwork:
    """Complete a topology for propagation (a new network; the input is not changed).

    Inserts missing amplifiers, splits long fibres, sets connector losses and padding, and
    sets every amplifier's gain, output offset and (where missing) type_variety, for the
    reference channel of ``equipment.si`` (per-channel power ``power_dbm`` or ``SI.power_dbm``).

    Raises
    ------
    DataError
        An element is badly connected, or no library amplifier fits a span.
    """
    pref = equipment.si.power_dbm if power_dbm is None else power_dbm
    si = equipment.si
    # GNPy sizes the design's total power on the SI channel count in both settings of
    # use_si_channel_count_for_design (the flag only changes the reference channel's label).
    nch = int((si.f_max_hz - si.f_min_hz) // si.spacing_hz) + 1
    out = _insert_topology_elements(net, equipment)
    _set_fibre_attributes(out, equipment)
    _design_amplifiers(out, equipment, pref, nch)
    return out


def network_to_json(net: OpticalNetwork) -> dict[str, Any]:
    """The network in GNPy topology JSON (designed values included), for GNPy or re-reading."""
    els: list[dict[str, Any]] = []
    for e in net.elements:
        d: dict[str, Any] = {"uid": e.uid, "type": e.kind}
        if e.city:
            d["metadata"] = {"location": {"city": e.city}}
        if e.kind == "Fiber":
            d["type_variety"] = e.type_variety
            d["params"] = {
                "length": e.length_km,
                "length_units": "km",
                "loss_coef": e.loss_db_per_km,
                "con_in": e.con_in_db,
                "con_out": e.con_out_db,
                "att_in": e.att_in_db,
            }
        elif e.kind == "Edfa":
            if e.type_variety:
                d["type_variety"] = e.type_variety
            d["operational"] = {
                "gain_target": e.gain_target_db,
                "delta_p": e.delta_p_db,
                "tilt_target": 0,
                "out_voa": e.out_voa_db,
                "in_voa": e.in_voa_db,
            }
        elif e.kind == "Roadm":
            d["type_variety"] = e.type_variety
            d["params"] = {"target_pch_out_db": e.target_pch_out_dbm}
            if e.per_degree_pch_out_dbm:
                d["params"]["per_degree_pch_out_db"] = dict(e.per_degree_pch_out_dbm)
        elif e.kind == "Fused":
            d["params"] = {"loss": e.loss_db}
        els.append(d)
    conns = [
        {"from_node": net.elements[a].uid, "to_node": net.elements[b].uid} for a, b in net.edges
    ]
    return {"network_name": net.name, "elements": els, "connections": conns}


# ---------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class PathRequest:
    """One path request (IETF TEAS path-computation JSON, GNPy flavour)."""

    request_id: str
    source: str
    destination: str
    trx_type: str
    trx_mode: str | None
    spacing_hz: float
    path_bandwidth_bps: float
    power_dbm: float | None
    nb_channel: int | None
    nodes_list: tuple[str, ...] = ()
    loose_list: tuple[bool, ...] = ()
    #: Requests this one must be disjoint from (``synchronization``); not enforced, reported.
    disjoint_with: tuple[str, ...] = ()


def load_requests(
    source: str | Path | Mapping[str, Any], equipment: Equipment
) -> list[PathRequest]:
    """Read a GNPy path-request JSON (``{"path-request": [...]}``).

    Raises
    ------
    DataError
        A request misses a field or names an unknown transceiver or mode; the message names
        the request-id and the field.
    """
    data, name = _read_json(source, "request")
    reqs = data.get("path-request")
    if not isinstance(reqs, list):
        raise DataError(f"{name}: missing 'path-request' list")
    _shape(_RequestsShape, data, name)
    disjoint: dict[str, set[str]] = {}
    for sync in data.get("synchronization") or []:
        ids = ((sync or {}).get("svec") or {}).get("request-id-number") or []
        for rid in ids:
            disjoint.setdefault(str(rid), set()).update(str(x) for x in ids if x != rid)
    out: list[PathRequest] = []
    seen: set[str] = set()
    for k, r in enumerate(reqs):
        if not isinstance(r, dict):
            raise DataError(f"{name}: path-request[{k}] must be an object")
        rid = str(r.get("request-id", ""))
        where = f"{name}: request {rid!r}" if rid else f"{name}: path-request[{k}]"
        _shape(_RequestShape, r, where)
        if not rid:
            raise DataError(f"{where}: missing field 'request-id'")
        if rid in seen:
            raise DataError(f"{where}: request-id is not unique")
        seen.add(rid)
        for key in ("source", "destination"):
            if not isinstance(r.get(key), str):
                raise DataError(f"{where}: missing field {key!r} (a transceiver uid)")
        te = ((r.get("path-constraints") or {}).get("te-bandwidth")) or {}
        if not isinstance(te, dict) or not te:
            raise DataError(f"{where}: missing field 'path-constraints.te-bandwidth'")
        trx_type = te.get("trx_type")
        if not isinstance(trx_type, str):
            raise DataError(f"{where}: field 'trx_type' must name a transceiver of the library")
        trx = equipment.transceiver(trx_type, f"{where} field 'trx_type'")
        mode = te.get("trx_mode")
        if mode is not None and str(mode) not in {m.name for m in trx.modes}:
            raise DataError(
                f"{where}: field 'trx_mode' names mode {str(mode)!r}, which transceiver "
                f"{trx_type!r} lacks; use one of {[m.name for m in trx.modes]} or null"
            )
        if r["source"] == r["destination"]:
            raise DataError(
                f"{where}: source and destination are the same transceiver "
                f"{r['source']!r}; Fix: give two different transceiver uids"
            )
        spacing = _fnum(te, "spacing", where, equipment.si.spacing_hz)
        if not spacing > 0:
            raise DataError(f"{where}: field 'spacing' must be > 0 Hz, e.g. 50e9")
        power_w = te.get("output-power")
        power_dbm = None
        if power_w is not None:
            pw = _fnum(te, "output-power", where)
            if pw <= 0:
                raise DataError(f"{where}: field 'output-power' must be > 0 W")
            power_dbm = 10 * math.log10(pw * 1e3)
        nb = te.get("max-nb-of-channel")
        if nb is not None and (not isinstance(nb, int) or nb < 1):
            raise DataError(f"{where}: field 'max-nb-of-channel' must be a positive integer")
        if nb is not None and nb > _MAX_CHANNELS:
            raise DataError(
                f"{where}: field 'max-nb-of-channel' is {nb:,}, more than the {_MAX_CHANNELS:,} "
                "slots of 6.25 GHz (the finest ITU-T G.694.1 flexgrid) in 150-250 THz; "
                "Fix: give the number of channels of the request's band"
            )
        ero = (r.get("explicit-route-objects") or {}).get("route-object-include-exclude") or []
        hops = sorted(ero, key=lambda x: x.get("index") or 0) if isinstance(ero, list) else []
        nodes: list[str] = []
        loose: list[bool] = []
        for h in hops:
            hop = h.get("num-unnum-hop") or {}
            if not isinstance(hop.get("node-id"), str):
                raise DataError(f"{where}: an explicit route object has no 'node-id'")
            nodes.append(hop["node-id"])
            loose.append(str(hop.get("hop-type", "LOOSE")).upper() != "STRICT")
        out.append(
            PathRequest(
                request_id=rid,
                source=r["source"],
                destination=r["destination"],
                trx_type=trx_type,
                trx_mode=None if mode is None else str(mode),
                spacing_hz=spacing,
                path_bandwidth_bps=_fnum(te, "path_bandwidth", where, 0.0),
                power_dbm=power_dbm,
                nb_channel=nb,
                nodes_list=tuple(nodes),
                loose_list=tuple(loose),
                disjoint_with=tuple(sorted(disjoint.get(rid, ()))),
            )
        )
    return out


@dataclass(frozen=True)
class RequestResult:
    """Outcome of one request: its path, QoT and mode, or why it is blocked."""

    request_id: str
    source: str
    destination: str
    path: tuple[str, ...]
    roadms: tuple[str, ...]
    feasible: bool
    blocking_reason: BlockingReason | None
    reason: str
    mode: str | None
    bit_rate_bps: float | None
    baud_rate_hz: float | None
    required_osnr_db: float | None
    gsnr_01nm_db: float
    gsnr_01nm_min_db: float
    gsnr_db: float
    osnr_ase_01nm_db: float
    osnr_ase_db: float
    margin_db: float
    latency_s: float
    length_km: float
    chromatic_dispersion_ps_per_nm: float
    pmd_ps: float
    pdl_db: float
    penalty_db: float
    n_wavelengths: int
    slot_n: int | None
    slot_m: int | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class _ElementTable:
    """Per-element propagation of one comb: noise-to-power ratios, length, CD and PMD."""

    oms_log_m: NDArray[np.float64]  # (O + 1, C) composed factors per OMS, last row zeros
    oms_b: NDArray[np.float64]  # (O + 1, C)
    element_oms: NDArray[np.int64]  # (E,) OMS of each element, -1 for ROADMs/transceivers
    length_km: NDArray[np.float64]  # (E,)
    cd_s_per_m: NDArray[np.float64]  # (E,) D·L in s/m
    pmd2_s2: NDArray[np.float64]  # (E,) PMD² of fibres, ROADMs and amplifiers (s²)
    pdl2_db2: NDArray[np.float64]  # (E,) PDL² of ROADMs and amplifiers (dB²)


def _oms_sequences(
    net: OpticalNetwork, tx_power_dbm: float
) -> tuple[list[list[int]], list[float], list[int]]:
    """Elements of every OMS in order, the per-channel power entering it and its end node.

    An OMS starts at a ROADM egress degree (power: the degree's target) or a transceiver (its
    transmit power) and runs through amplifiers, fibres and splices to the next ROADM or
    transceiver.
    """
    seqs: list[list[int]] = []
    p0: list[float] = []
    ends: list[int] = []
    for start, src in enumerate(net.elements):
        if src.kind not in ("Roadm", "Transceiver"):
            continue
        for first in net.succ[start]:
            if net.elements[first].kind in ("Transceiver", "Roadm"):
                continue
            if src.kind == "Roadm":
                p0.append(
                    src.per_degree_pch_out_dbm.get(net.elements[first].uid, src.target_pch_out_dbm)
                )
            else:
                p0.append(tx_power_dbm)
            seq: list[int] = []
            node = first
            while net.elements[node].kind not in ("Roadm", "Transceiver"):
                if len(seq) > len(net.elements):
                    raise DataError(f"element {net.elements[node].uid!r} lies on a loop")
                seq.append(node)
                node = net.succ[node][0]
            seqs.append(seq)
            ends.append(node)
    return seqs, p0, ends


def _walk_oms(
    net: OpticalNetwork,
    eq: Equipment,
    f: NDArray[np.float64],
    spacing_hz: float,
    tx_power_dbm: float,
    hf_rs: NDArray[np.float64],
    ase_to_p: NDArray[np.float64],
    launch: NDArray[np.float64],
    element_oms: NDArray[np.int64],
    oms_members: list[list[int]],
) -> None:
    """Fill per-element ASE ratios, fibre launch powers and OMS membership (in place).

    All OMSs advance in lockstep, one element position per step, so the Python loop runs over
    the longest OMS (tens of elements), not over every element of the network.
    """
    nch = f.size
    seqs, p0, ends = _oms_sequences(net, tx_power_dbm)
    n_oms = len(seqs)
    if n_oms == 0:
        return
    width = max(len(q) for q in seqs)
    grid = np.full((n_oms, width), -1, dtype=np.int64)
    for o, q in enumerate(seqs):
        grid[o, : len(q)] = q
        element_oms[q] = o
        oms_members.append([i for i in q if net.elements[i].kind in ("Edfa", "Fiber")])
    els = net.elements
    kind = np.array([{"Edfa": 1, "Fiber": 2, "Fused": 3}.get(e.kind, 0) for e in els])
    loss_in = np.array(
        [(e.con_in_db or 0.0) + e.att_in_db if e.kind == "Fiber" else 0.0 for e in els]
    )
    loss_out = np.array(
        [
            e.loss_db_per_km * e.length_km + (e.con_out_db or 0.0)
            if e.kind == "Fiber"
            else (e.loss_db if e.kind == "Fused" else 0.0)
            for e in els
        ]
    )
    p = np.repeat((10.0 ** (np.asarray(p0) / 10.0) * 1e-3)[:, None], nch, axis=1)
    ch_db = 10.0 * np.log10(nch)
    for k in range(width):
        col = grid[:, k]
        e_kind = np.where(col >= 0, kind[col], 0)
        amps = np.nonzero(e_kind == 1)[0]
        if amps.size:
            idx = col[amps]
            in_voa = np.array([els[i].in_voa_db for i in idx])
            p[amps] *= 10.0 ** (-in_voa / 10.0)[:, None]
            pin_tot = 10.0 * np.log10(p[amps].sum(axis=1) * 1e3)
            gain = np.empty(amps.size)
            nf = np.empty(amps.size)
            out_voa = np.empty(amps.size)
            for r, i in enumerate(idx.tolist()):
                el = els[i]
                amp = eq.amplifier(el.type_variety, el.uid)
                g = el.gain_target_db if el.gain_target_db is not None else 0.0
                gain[r] = min(g, amp.p_max_dbm - pin_tot[r])
                nf[r] = amplifier_noise_figure_db(amp, gain[r], pin_tot[r] - ch_db, spacing_hz)
                out_voa[r] = el.out_voa_db or 0.0
            ase = hf_rs[None, :] * (10.0 ** (nf / 10.0))[:, None]  # F h f Rs (W), at the input
            ase_to_p[idx] = ase / p[amps]
            p[amps] = (p[amps] + ase) * (10.0 ** ((gain - out_voa) / 10.0))[:, None]
        fibs = np.nonzero(e_kind == 2)[0]
        if fibs.size:
            idx = col[fibs]
            p[fibs] *= 10.0 ** (-loss_in[idx] / 10.0)[:, None]
            launch[idx] = 10.0 * np.log10(p[fibs] * 1e3)
            p[fibs] *= 10.0 ** (-loss_out[idx] / 10.0)[:, None]
        fused = np.nonzero(e_kind == 3)[0]
        if fused.size:
            p[fused] *= 10.0 ** (-loss_out[col[fused]] / 10.0)[:, None]
    for o, end in enumerate(ends):
        dst = els[end]
        if dst.kind == "Roadm":
            target = max([dst.target_pch_out_dbm, *dst.per_degree_pch_out_dbm.values()])
            if float(10.0 * np.log10(p[o].min() * 1e3)) < target - 1e-6:
                log.info("ROADM %s receives less than its egress target", dst.uid)


def _element_table(
    net: OpticalNetwork,
    eq: Equipment,
    frequency_hz: NDArray[np.float64],
    baud_rate_hz: float,
    spacing_hz: float,
    tx_power_dbm: float,
) -> _ElementTable:
    """Walk every OMS once: total per-channel power at each element for a comb, then its noise.

    Each OMS starts at a ROADM egress degree, which sets every channel's total power
    (signal + noise) to its target, or at a transceiver. Amplifier gains are fixed by the
    design (clamped by ``p_max`` on total input power), so the powers inside an OMS do not
    depend on the lightpath; the lightpath-specific part is only which elements it crosses.
    A ROADM can only attenuate: an input below target would pass at its own level; that case
    is logged as a design problem and the target is used.
    """
    n = len(net.elements)
    f = frequency_hz
    nch = f.size
    ase_to_p = np.zeros((n, nch))
    launch = np.full((n, nch), np.nan)
    hf_rs = ase_inverse_snr(0.0, 0.0, f, baud_rate_hz) * 1e-3  # h f Rs in W (NF 0 dB, 1 W ref)
    element_oms = np.full(n, -1, dtype=np.int64)
    oms_members: list[list[int]] = []
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # a span that swallows the whole signal yields zero power and an SNR of -inf dB
        _walk_oms(
            net,
            eq,
            f,
            spacing_hz,
            tx_power_dbm,
            hf_rs,
            ase_to_p,
            launch,
            element_oms,
            oms_members,
        )
    kinds = np.array([e.kind for e in net.elements])
    is_fib = (kinds == "Fiber") & np.all(np.isfinite(launch), axis=1)
    length = np.array([e.length_km if e.kind == "Fiber" else 0.0 for e in net.elements])
    nli_to_p = np.zeros((n, nch))
    fib = np.nonzero(is_fib)[0]
    if fib.size:
        nli_to_p[fib] = nli_inverse_snr(
            f,
            baud_rate_hz,
            length[fib],
            np.array([net.elements[i].loss_db_per_km for i in fib]),
            launch[fib],
            np.array([net.elements[i].dispersion_s_per_m2 for i in fib]),
            np.array([net.elements[i].effective_area_m2 for i in fib]),
        )
    cd = np.array(
        [
            e.dispersion_s_per_m2 * e.length_km * 1e3 if e.kind == "Fiber" else 0.0
            for e in net.elements
        ]
    )
    pmd2 = np.zeros(n)
    pdl2 = np.zeros(n)
    for i, e in enumerate(net.elements):
        if e.kind == "Fiber":
            pmd2[i] = (e.pmd_coef_s_per_sqrt_m**2) * e.length_km * 1e3
        elif e.kind == "Roadm":
            pmd2[i], pdl2[i] = e.pmd_s**2, e.pdl_db**2
        elif e.kind == "Edfa":
            amp = eq.amplifier(e.type_variety, e.uid)
            pmd2[i], pdl2[i] = amp.pmd_s**2, amp.pdl_db**2
    log_m, b = noise_share_factors(ase_to_p, nli_to_p)
    zero = np.zeros((1, nch))
    oms_log_m = np.zeros((len(oms_members), nch))
    oms_b = np.zeros((len(oms_members), nch))
    filled = [o for o, m in enumerate(oms_members) if m]
    if filled:
        order = np.concatenate([np.asarray(oms_members[o], dtype=np.int64) for o in filled])
        starts = np.concatenate([[0], np.cumsum([len(oms_members[o]) for o in filled])[:-1]])
        seg_log_m, seg_b = compose_noise_segments(log_m[order], b[order], starts)
        oms_log_m[filled] = seg_log_m
        oms_b[filled] = seg_b
    return _ElementTable(
        oms_log_m=np.concatenate([oms_log_m, zero]),
        oms_b=np.concatenate([oms_b, zero]),
        element_oms=element_oms,
        length_km=length,
        cd_s_per_m=cd,
        pmd2_s2=pmd2,
        pdl2_db2=pdl2,
    )


def _graph(net: OpticalNetwork) -> csr_matrix:
    n = len(net.elements)
    rows = np.array([a for a, _ in net.edges], dtype=np.int64)
    cols = np.array([b for _, b in net.edges], dtype=np.int64)
    w = np.array(
        [
            net.elements[a].length_km if net.elements[a].kind == "Fiber" else _HOP_WEIGHT
            for a, _ in net.edges
        ]
    )
    return csr_matrix((w, (rows, cols)), shape=(n, n))


def _paths(
    net: OpticalNetwork, requests: Sequence[PathRequest]
) -> list[tuple[list[int] | None, str]]:
    """Shortest paths (fibre length) through each request's explicit route objects."""
    g = _graph(net)
    # one Dijkstra per distinct origin (sources and waypoints), rows reused by all requests
    legs: list[list[tuple[int, int, bool, str]]] = []
    origins: set[int] = set()
    out: list[tuple[list[int] | None, str]] = []
    for r in requests:
        stops: list[tuple[int, bool, str]] = []
        missing = ""
        for uid, loose in zip(
            r.nodes_list, r.loose_list or (True,) * len(r.nodes_list), strict=False
        ):
            if uid in net.index:
                stops.append((net.index[uid], loose, uid))
            elif not loose:
                missing = f"strict route node {uid!r} is not in the topology"
        seq = [r.source, *[s[2] for s in stops], r.destination]
        ids = [
            net.index.get(r.source, -1),
            *[s[0] for s in stops],
            net.index.get(r.destination, -1),
        ]
        if ids[0] < 0 or ids[-1] < 0 or missing:
            bad = [u for u, i in zip(seq, ids, strict=True) if i < 0]
            legs.append([])
            out.append((None, missing or f"unknown transceiver uid(s) {bad}"))
            continue
        looses = [False, *[s[1] for s in stops], False]
        leg = [(ids[k], ids[k + 1], looses[k + 1], seq[k + 1]) for k in range(len(ids) - 1)]
        legs.append(leg)
        origins.update(a for a, _, _, _ in leg)
        out.append(([], ""))
    if not origins:
        return out
    order = sorted(origins)
    _, pred = shortest_paths(g, np.array(order, dtype=np.int64))
    row_of = {o: k for k, o in enumerate(order)}
    # every leg of every request walked at once
    flat = [(k, a, b) for k, leg in enumerate(legs) if out[k][0] is not None for a, b, _, _ in leg]
    walks = walk(
        pred,
        np.array(order, dtype=np.int64),
        np.array([b for _, _, b in flat], dtype=np.int64),
        rows=np.array([row_of[a] for _, a, _ in flat], dtype=np.int64),
    )
    pieces = {
        (k, a, b): (walks.nodes(i).tolist() if walks.reachable[i] else None)
        for i, (k, a, b) in enumerate(flat)
    }
    for k, leg in enumerate(legs):
        if out[k][0] is None:
            continue
        path: list[int] = []
        ok = True
        for a, b, _loose, _uid in leg:
            piece = pieces[(k, a, b)]
            if piece is None:
                out[k] = (
                    None,
                    f"no connection reaches {net.elements[b].uid!r} from {net.elements[a].uid!r}",
                )
                ok = False
                break
            path.extend(piece if not path else piece[1:])
        if ok:
            out[k] = (path, "")
    return out


def _penalty(mode: TransceiverMode, cd_ps_nm: float, pmd_ps: float, pdl_db: float) -> float:
    """Receiver penalty (dB) of a mode: linear interpolation of its tables, +inf outside them.

    The tables are the transceiver's ``penalties`` (CD in ps/nm, signed; PMD in ps; PDL in dB),
    interpolated as GNPy does; a value outside a table's range makes the mode unusable.
    """
    total = 0.0
    values = {"chromatic_dispersion": cd_ps_nm, "pmd": pmd_ps, "pdl": pdl_db}
    for imp, pts in mode.penalties:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        total += float(np.interp(values[imp], xs, ys, left=math.inf, right=math.inf))
    return total


def compute_requests(
    net: OpticalNetwork, equipment: Equipment, requests: Sequence[PathRequest]
) -> list[RequestResult]:
    """Path, QoT, mode and spectrum of every request (never raises for an infeasible one).

    The network is designed first if it is not yet (:func:`design_network`). Requests are
    grouped by comb (symbol rate, spacing, channel count); for each comb every OMS is
    propagated once and its noise composed; each lightpath then composes the OMSs it crosses,
    all lightpaths in one array operation. A request
    without ``trx_mode`` gets the highest bit-rate mode (highest symbol rate first, as GNPy)
    that fits its spacing and whose worst channel clears ``OSNR + sys_margins`` after CD/PMD/PDL
    penalties. Spectrum is assigned first-fit in request order, on the path and its reverse.
    """
    if not net.designed:
        net = design_network(net, equipment)
    si = equipment.si
    paths = _paths(net, requests)
    # comb key: (symbol rate, first frequency, channel count, transmit power, spacing)
    tables: dict[tuple[float, float, int, float, float], tuple[NDArray[np.float64], _ElementTable]]
    tables = {}

    def comb(
        req: PathRequest, trx_f_min: float, trx_f_max: float, baud: float
    ) -> tuple[float, float, int, float, float]:
        nch = req.nb_channel or int((trx_f_max - trx_f_min) // req.spacing_hz) + 1
        tx = (
            req.power_dbm
            if si.tx_power_dbm is None and req.power_dbm is not None
            else (si.tx_power_dbm if si.tx_power_dbm is not None else si.power_dbm)
        )
        return (baud, trx_f_min, nch, tx, req.spacing_hz)

    # candidate modes per request, highest baud rate then bit rate first
    cands: list[list[TransceiverMode]] = []
    for req in requests:
        trx = equipment.transceivers[req.trx_type]
        if req.trx_mode is not None:
            cands.append([trx.mode(req.trx_mode)])
        else:
            ms = [m for m in trx.modes if m.min_spacing_hz <= req.spacing_hz]
            cands.append(sorted(ms, key=lambda m: (m.baud_rate_hz, m.bit_rate_bps), reverse=True))

    # evaluate every (request, candidate mode) pair, grouped by comb
    evals: dict[tuple[int, int], tuple[QotResult, int, float, float, float]] = {}
    groups: dict[tuple[float, float, int, float, float], list[tuple[int, int]]] = {}
    for k, req in enumerate(requests):
        if paths[k][0] is None:
            continue
        trx = equipment.transceivers[req.trx_type]
        for j, m in enumerate(cands[k]):
            groups.setdefault(comb(req, trx.f_min_hz, trx.f_max_hz, m.baud_rate_hz), []).append(
                (k, j)
            )
    kinds = np.array([e.kind for e in net.elements])
    is_roadm = kinds == "Roadm"
    add_drop = np.array(
        [
            e.add_drop_osnr_db + _ROADM_ADD_DROP_SPLIT_DB if e.kind == "Roadm" else np.nan
            for e in net.elements
        ]
    )
    for key, members in groups.items():
        baud, f_min, nch, tx, spacing = key
        if key not in tables:
            freq = channel_comb_hz(f_min, spacing, nch)
            tables[key] = (freq, _element_table(net, equipment, freq, baud, spacing, tx))
        freq, tab = tables[key]
        plist = [paths[k][0] or [] for k, _j in members]
        n_lp = len(plist)
        lens = np.array([len(p) for p in plist], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        flat = np.concatenate([np.asarray(p, dtype=np.int64) for p in plist])
        length = np.add.reduceat(tab.length_km[flat], starts)
        cd = np.add.reduceat(tab.cd_s_per_m[flat], starts)
        pmd = np.sqrt(np.add.reduceat(tab.pmd2_s2[flat], starts))
        pdl = np.sqrt(np.add.reduceat(tab.pdl2_db2[flat], starts))
        # OMSs crossed by each path, in order, padded with the all-zero last row of the table
        row = np.repeat(np.arange(n_lp), lens)
        om = tab.element_oms[flat]
        same = np.zeros(om.size, dtype=bool)
        same[1:] = (om[1:] == om[:-1]) & (row[1:] == row[:-1])
        keep = (om >= 0) & ~same
        om_k, row_k = om[keep], row[keep]
        cnt = np.bincount(row_k, minlength=n_lp)
        pos = np.arange(om_k.size) - np.repeat(np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
        idx = np.full((n_lp, max(int(cnt.max(initial=0)), 1)), tab.oms_log_m.shape[0] - 1)
        idx[row_k, pos] = om_k
        total, inv_ase = compose_noise_shares(tab.oms_log_m, tab.oms_b, idx)
        inv_gsnr = np.expm1(-total)
        # transmitter OSNR, then ROADM add (first) and drop (last) OSNR where the path has them
        first_roadm = np.array([p[1] if len(p) > 2 else p[0] for p in plist])
        last_roadm = np.array([p[-2] if len(p) > 2 else p[-1] for p in plist])
        osnr = np.column_stack(
            [
                [cands[k][j].tx_osnr_db for k, j in members],
                np.where(is_roadm[first_roadm], add_drop[first_roadm], np.nan),
                np.where(is_roadm[last_roadm], add_drop[last_roadm], np.nan),
            ]
        )
        res = qot_from_inverse_snr(
            frequency_hz=freq,
            baud_rate_hz=baud,
            inv_snr_ase=inv_ase,
            inv_snr_nli=inv_gsnr - inv_ase,
            osnr_01nm_db=osnr,
            length_km=length,
        )
        for r, (k, j) in enumerate(members):
            evals[(k, j)] = (res, r, float(cd[r]) * 1e3, float(pmd[r]) * 1e12, float(pdl[r]))

    # choose modes, then spectrum
    uids = np.array([e.uid for e in net.elements], dtype=object)
    band_start = _AMP_BAND_HZ[0] + _GUARD_BAND_HZ
    n_units = round((_AMP_BAND_HZ[1] - _GUARD_BAND_HZ - band_start) / 12.5e9)
    results: list[RequestResult] = []
    oms_ids: dict[tuple[int, int], int] = {}
    grid = SpectrumGrid(n_links=0, n_slots=n_units)
    for k, req in enumerate(requests):
        path, why = paths[k]
        base: dict[str, Any] = {
            "request_id": req.request_id,
            "source": req.source,
            "destination": req.destination,
        }
        notes: list[str] = []
        if req.disjoint_with:
            notes.append(
                f"disjointness from requests {list(req.disjoint_with)} is not enforced; the "
                "shortest path was used (pin a route with explicit-route-objects)"
            )
        if path is None:
            results.append(_blocked(base, "NO_PATH", f"no path: {why}"))
            continue
        if not cands[k]:
            results.append(
                _blocked(
                    base,
                    "NO_FEASIBLE_BAUDRATE_WITH_SPACING",
                    f"no mode of {req.trx_type!r} fits a spacing of {req.spacing_hz / 1e9:g} GHz; "
                    "widen 'spacing'",
                    path=tuple(net.elements[i].uid for i in path),
                )
            )
            continue
        chosen = None
        for j, m in enumerate(cands[k]):
            res, r, cd_ps, pmd_ps, pdl_db = evals[(k, j)]
            pen = _penalty(m, cd_ps, pmd_ps, pdl_db)
            margin = float(res.gsnr_01nm_min_db[r]) - pen - si.sys_margins_db - m.required_osnr_db
            chosen = (j, m, res, r, cd_ps, pmd_ps, pdl_db, pen, margin)
            if margin >= 0.0:
                break
        assert chosen is not None
        j, m, res, r, cd_ps, pmd_ps, pdl_db, pen, margin = chosen
        parr = np.asarray(path, dtype=np.int64)
        roadm_idx = parr[is_roadm[parr]].tolist()
        feasible = margin >= 0.0
        reason_code: BlockingReason | None = None
        reason = ""
        if not feasible:
            reason_code = "MODE_NOT_FEASIBLE" if req.trx_mode is not None else "NO_FEASIBLE_MODE"
            reason = (
                f"no mode with enough GSNR: best {m.name!r} has worst-channel GSNR "
                f"{float(res.gsnr_01nm_min_db[r]):.2f} dB (0.1 nm) against a required "
                f"{m.required_osnr_db:.2f} dB + {si.sys_margins_db:.2f} dB margin"
                + (f" + {pen:.2f} dB CD/PMD/PDL penalty" if pen > 0 else "")
            )
        n_wl = (
            max(1, math.ceil(req.path_bandwidth_bps / m.bit_rate_bps))
            if req.path_bandwidth_bps > 0
            else 1
        )
        width = math.ceil(req.spacing_hz / 12.5e9) * n_wl
        slot_n = slot_m = None
        if feasible:
            links: list[int] = []
            for a, b in itertools.pairwise(roadm_idx):
                for key2 in ((a, b), (b, a)):
                    if key2 not in oms_ids:
                        oms_ids[key2] = len(grid.occupied)
                        grid.occupied.append(0)
                        grid.n_links += 1
                    links.append(oms_ids[key2])
            fits = fit_starts(grid.free_on_path(links), width)
            if fits == 0:
                feasible = False
                reason_code = "NO_SPECTRUM"
                reason = (
                    f"no spectrum: no {width} contiguous free 12.5 GHz slots on every link of the "
                    "path (first fit)"
                )
            else:
                first_slot = (fits & -fits).bit_length() - 1
                grid.allocate(links, first_slot, width)
                nn, mm = flexgrid_n_m([first_slot], [width], band_start)
                slot_n, slot_m = int(nn[0]), int(mm[0])
        results.append(
            RequestResult(
                **base,
                path=tuple(uids[parr]),
                roadms=tuple(uids[roadm_idx]),
                feasible=feasible,
                blocking_reason=reason_code,
                reason=reason,
                mode=m.name,
                bit_rate_bps=m.bit_rate_bps,
                baud_rate_hz=m.baud_rate_hz,
                required_osnr_db=m.required_osnr_db + si.sys_margins_db,
                gsnr_01nm_db=float(res.gsnr_01nm_mean_db[r]),
                gsnr_01nm_min_db=float(res.gsnr_01nm_min_db[r]),
                gsnr_db=float(res.gsnr_mean_db[r]),
                osnr_ase_01nm_db=float(res.osnr_ase_01nm_mean_db[r]),
                osnr_ase_db=float(res.osnr_ase_mean_db[r]),
                margin_db=margin,
                latency_s=float(res.latency_s[r]),
                length_km=float(res.length_km[r]),
                chromatic_dispersion_ps_per_nm=cd_ps,
                pmd_ps=pmd_ps,
                pdl_db=pdl_db,
                penalty_db=pen,
                n_wavelengths=n_wl,
                slot_n=slot_n,
                slot_m=slot_m,
                notes=tuple(notes),
            )
        )
    return results


def _blocked(
    base: dict[str, Any], code: BlockingReason, reason: str, path: tuple[str, ...] = ()
) -> RequestResult:
    nan = math.nan
    return RequestResult(
        **base,
        path=path,
        roadms=(),
        feasible=False,
        blocking_reason=code,
        reason=reason,
        mode=None,
        bit_rate_bps=None,
        baud_rate_hz=None,
        required_osnr_db=None,
        gsnr_01nm_db=nan,
        gsnr_01nm_min_db=nan,
        gsnr_db=nan,
        osnr_ase_01nm_db=nan,
        osnr_ase_db=nan,
        margin_db=nan,
        latency_s=nan,
        length_km=nan,
        chromatic_dispersion_ps_per_nm=nan,
        pmd_ps=nan,
        pdl_db=nan,
        penalty_db=nan,
        n_wavelengths=0,
        slot_n=None,
        slot_m=None,
    )
