"""Disaster presets: public outage figures turned into concrete, time-windowed events.

A scenario event ``{preset: noto-2024, start_s: ...}`` expands, against the built twin, into
``ran_outage``, ``region_power_loss`` and ``ntn_access_down`` events (docs/disasters.md gives
every figure, its source and how each parameter is derived). The model of a preset:

* **Base stations down** per mobile network, ``N(t)``: the reported count of base stations down
  summed over the carriers, divided by the number of carriers (the twin plans one network).
  Before the reported peak, the share caused by cut transmission links goes down at the
  earthquake and the share caused by power loss after the battery hold-up time; after the peak
  ``N`` falls exponentially, with the rate fitted (least squares on ``ln N``) through the
  reported counts, in windows of ``window_s``. The counts, fitted and held out, are in
  ``data/disaster_counts.csv`` (:func:`published_counts`).
* **Valid horizon**: the operators' emergency restoration (about two weeks: Noto 2024 until
  15-17 Jan). Later the count falls far more slowly than the exponential (the sites left wait
  for roads): on counts not used in the fit the Noto model gives 27 base stations down on
  31 Jan against 122 reported, and none on 1 Jul against 15 (docs/validation.md).
* **Share of cells down** in the area = ``min(1, N(t) / S)`` where ``S`` is the number of RAN
  sites the twin planned in the affected area. Where the twin holds fewer sites than went down
  (small towns fall below ``demand.min_city_population``), the whole area goes dark.
* **NTN backup** (HAPS, LEO) reaches users in the area only ``ntn_delay_s`` after the
  earthquake: the time it took for satellite kits to be in use (Noto 2024).

Presets are plain data (:data:`PRESETS`); :func:`expand_disaster` is the only model.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tsunagu.errors import DataError, ScenarioError
from tsunagu.scenario.schema import Event

__all__ = [
    "PRESETS",
    "DisasterPreset",
    "ReportedCount",
    "decay_rate_per_s",
    "expand_disaster",
    "published_counts",
]

_HOUR_S = 3600.0
_DAY_S = 86_400.0
_ROLES = ("peak", "fit", "test")


@dataclass(frozen=True)
class ReportedCount:
    """One published count of base stations down (a row of ``data/disaster_counts.csv``).

    ``after_s`` is seconds after the earthquake; ``role`` says what the count is used for:
    ``peak`` (the decay starts there), ``fit`` (the decay rate is fitted to it) or ``test``
    (held out: only the validation compares the model with it).
    """

    event: str
    operator: str
    after_s: float
    base_stations_down: float
    role: str
    counted: str
    source: str


@functools.cache
def published_counts(event: str) -> tuple[ReportedCount, ...]:
    """The published counts of base stations down after a disaster, oldest first.

    Examples
    --------
    >>> [(c.role, c.base_stations_down) for c in published_counts("noto-2024")][:2]
    [('peak', 839.0), ('fit', 600.0)]
    """
    text = (
        importlib.resources.files("tsunagu.data").joinpath("disaster_counts.csv").read_text("utf-8")
    )
    out = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if row["event"] != event:
            continue
        try:
            origin = datetime.fromisoformat(row["origin_jst"])
            at = datetime.fromisoformat(row["time_jst"])
            count = float(row["base_stations_down"])
        except ValueError as exc:
            raise DataError(
                f"disaster_counts.csv line {i}: {exc}; times are ISO 'YYYY-MM-DDTHH:MM' (JST) "
                "and base_stations_down a number"
            ) from exc
        if row["role"] not in _ROLES or count <= 0 or at < origin:
            raise DataError(
                f"disaster_counts.csv line {i}: role must be one of {list(_ROLES)}, the count "
                "positive and the time after the origin"
            )
        out.append(
            ReportedCount(
                event=event,
                operator=row["operator"],
                after_s=(at - origin).total_seconds(),
                base_stations_down=count,
                role=row["role"],
                counted=row["counted"],
                source=row["source"],
            )
        )
    return tuple(sorted(out, key=lambda c: (c.operator, c.after_s)))


def _noto_counts(role: str) -> tuple[ReportedCount, ...]:
    return tuple(c for c in published_counts("noto-2024") if c.operator == "all" and c.role == role)


@dataclass(frozen=True)
class DisasterPreset:
    """A disaster's public figures (see docs/disasters.md for each source).

    Attributes
    ----------
    areas : prefectures or regions hit; each becomes one set of events.
    center_lat_deg, center_lon_deg, radius_km : optional circle narrowing the areas
        (the epicentral area); ``None`` keeps the whole areas.
    params : defaults of the tunable parameters (overridable by ``Event.params``):
        ``base_stations_down_peak`` (all carriers), ``carriers``, ``transmission_share`` (of
        outages caused by cut transmission links; the rest by power loss), ``battery_hold_s``,
        ``peak_after_s``, ``ntn_delay_s``, ``window_s``.
    counts_after_peak : ``(seconds after the earthquake, base stations down)`` reported after
        the peak, for the decay fit; empty keeps the peak until the event ends.
    """

    name: str
    description: str
    areas: tuple[str, ...]
    center_lat_deg: float | None
    center_lon_deg: float | None
    radius_km: float | None
    params: Mapping[str, float]
    counts_after_peak: tuple[tuple[float, float], ...] = ()
    reference_area: tuple[str, ...] = field(default=())


# Noto Peninsula earthquake, 2024-01-01 16:10 JST, M7.6; JMA epicentre 37.495 N, 137.270 E.
# Counts (all four carriers, data/disaster_counts.csv): peak 839 on Jan 3 07:30 (MIC report 13),
# fitted to about 600 on Jan 6 14:30 and 215 on Jan 14; 122 on Jan 31 and 15 on Jul 1 are held out
# for the validation. ~60 % of outages from cut transmission links. Starlink kits in use in
# Wajima on Jan 5 (Kyodo, photo of 2024-01-05).
(_NOTO_PEAK,) = _noto_counts("peak")
_NOTO = DisasterPreset(
    name="noto-2024",
    description="2024 Noto Peninsula earthquake (M7.6, 1 Jan 2024 16:10 JST)",
    areas=("Ishikawa",),
    center_lat_deg=37.495,
    center_lon_deg=137.270,
    radius_km=70.0,
    params={
        "base_stations_down_peak": _NOTO_PEAK.base_stations_down,
        "carriers": 4.0,
        "transmission_share": 0.6,
        "battery_hold_s": 3.0 * _HOUR_S,
        # Jan 1 16:10 -> Jan 3 07:30 (the ministry's report 13): 39.3 h.
        "peak_after_s": _NOTO_PEAK.after_s,
        # Jan 1 16:10 -> Jan 5 12:00: first satellite kits in use.
        "ntn_delay_s": 91.8 * _HOUR_S,
        "window_s": _HOUR_S,
    },
    counts_after_peak=tuple((c.after_s, c.base_stations_down) for c in _noto_counts("fit")),
)

# Great East Japan earthquake, 2011-03-11 14:46 JST, M9.0. ~29,000 base stations stopped, of
# which mobile: docomo 6,720, au 3,680, SoftBank 3,786 (PHS 13,760 excluded: not a 5G analogue);
# ~80 % from power loss, batteries 1-3 h (REFERENCES.md). No later counts in our sources: the
# peak is held until the event ends.
_TOHOKU = DisasterPreset(
    name="tohoku-2011",
    description="2011 Great East Japan earthquake and tsunami (M9.0, 11 Mar 2011 14:46 JST)",
    areas=("Tohoku",),
    center_lat_deg=None,
    center_lon_deg=None,
    radius_km=None,
    params={
        "base_stations_down_peak": 6720.0 + 3680.0 + 3786.0,
        "carriers": 3.0,
        "transmission_share": 0.2,
        "battery_hold_s": 2.0 * _HOUR_S,  # middle of the reported 1-3 h
        "peak_after_s": 2.0 * _HOUR_S,  # the peak once batteries run out
        "ntn_delay_s": 91.8 * _HOUR_S,  # the 2024 satellite-kit delay (no 2011 LEO service)
        "window_s": _HOUR_S,
    },
)

# A Nankai-Trough-like earthquake: no outage has been observed, so the Tohoku-2011 share of
# base stations down in the Tohoku region of the twin is applied to the prefectures along the
# trough's coast, with Tohoku's causes and timing.
_NANKAI = DisasterPreset(
    name="nankai",
    description="Nankai-Trough-like earthquake: Tohoku-2011 outage shares on the trough's coast",
    areas=(
        "Shizuoka",
        "Aichi",
        "Mie",
        "Wakayama",
        "Tokushima",
        "Kochi",
        "Ehime",
        "Oita",
        "Miyazaki",
    ),
    center_lat_deg=None,
    center_lon_deg=None,
    radius_km=None,
    params=dict(_TOHOKU.params),
    reference_area=("Tohoku",),
)

#: The presets by name.
PRESETS: dict[str, DisasterPreset] = {p.name: p for p in (_NOTO, _TOHOKU, _NANKAI)}


def decay_rate_per_s(points: tuple[tuple[float, float], ...], peak: tuple[float, float]) -> float:
    """Exponential decay rate (1/s) of outage counts, least squares on ``ln N`` through the peak.

    Fits ``ln N(t) = ln N_peak - k (t - t_peak)`` with the line pinned at the peak.

    Examples
    --------
    >>> round(decay_rate_per_s(((86_400.0, 50.0),), (0.0, 100.0)) * 86_400.0, 6)
    0.693147
    """
    if not points:
        return 0.0
    t0, n0 = peak
    dt = np.array([t - t0 for t, _ in points])
    y = np.array([math.log(n0) - math.log(n) for _, n in points])
    return float(np.dot(dt, y) / np.dot(dt, dt))


Circle = tuple[float, float, float] | None


def expand_disaster(
    event: Event,
    index: int,
    ran_sites_in: Callable[[str, Circle], float],
    run_end_s: float,
) -> list[Event]:
    """The concrete events of a preset event, in time windows up to the run's end.

    Parameters
    ----------
    event : the scenario event with ``preset`` set.
    index : its position in ``scenario.events`` (for error messages).
    ran_sites_in : number of RAN sites the twin planned in an area (target, circle).
    run_end_s : end of the run; windows starting later are dropped.

    Raises
    ------
    ScenarioError
        For an unknown parameter name, a non-positive count or an area where the twin has
        no RAN site (the area holds no demand point).
    """
    preset = PRESETS[str(event.preset)]
    unknown = sorted(set(event.params) - set(preset.params))
    if unknown:
        raise ScenarioError(
            f"events[{index}]: preset {preset.name!r} has no parameter(s) {unknown}; "
            f"known: {sorted(preset.params)}"
        )
    p = {**preset.params, **event.params}
    for key in ("base_stations_down_peak", "carriers", "window_s"):
        if p[key] <= 0:
            raise ScenarioError(f"events[{index}]: params.{key} must be positive, not {p[key]:g}")
    if not 0.0 <= p["transmission_share"] <= 1.0:
        raise ScenarioError(
            f"events[{index}]: params.transmission_share must be in [0, 1], "
            f"not {p['transmission_share']:g}"
        )
    t0 = event.start_s
    t_end = min(event.end_s if event.end_s is not None else math.inf, run_end_s)
    circle: Circle = (
        (preset.center_lat_deg, preset.center_lon_deg, preset.radius_km)
        if preset.center_lat_deg is not None
        and preset.center_lon_deg is not None
        and preset.radius_km is not None
        else None
    )
    per_network_peak = p["base_stations_down_peak"] / p["carriers"]
    sites = {}
    for a in preset.areas:
        sites[a] = ran_sites_in(a, circle)
        if sites[a] <= 0:
            raise ScenarioError(
                f"events[{index}]: the twin has no RAN site in the area of preset "
                f"{preset.name!r} ({a}"
                + (f" within {preset.radius_km:g} km of the epicentre" if circle else "")
                + "); lower demand.min_city_population or add the area to demand.areas"
            )
    if preset.reference_area:
        # Analogue: the reference disaster's share of sites down, applied to these areas.
        ref_sites = sum(ran_sites_in(a, None) for a in preset.reference_area)
        if ref_sites <= 0:
            raise ScenarioError(
                f"events[{index}]: preset {preset.name!r} scales from the "
                f"{'/'.join(preset.reference_area)} share of sites down, but the twin has no RAN "
                "site there; keep that region in demand.areas"
            )
        denominator = dict.fromkeys(preset.areas, ref_sites)
    else:
        denominator = dict(sites)

    t_peak = t0 + p["peak_after_s"]
    k = decay_rate_per_s(
        preset.counts_after_peak, (p["peak_after_s"], p["base_stations_down_peak"])
    )
    tx = p["transmission_share"]
    hold = min(p["battery_hold_s"], p["peak_after_s"])
    circ: dict[str, float] = (
        {"center_lat_deg": circle[0], "center_lon_deg": circle[1], "radius_km": circle[2]}
        if circle is not None
        else {}
    )
    out: list[Event] = []
    for area in preset.areas:
        peak_share = min(1.0, per_network_peak / denominator[area])
        # Before the peak: transmission cuts at once, power loss after the battery hold-up.
        first_end = min(t_peak, t_end) if t_peak > t0 else min(t0 + p["window_s"], t_end)
        if t0 < t_end and tx > 0:
            out.append(
                Event(
                    kind="ran_outage",
                    target=area,
                    start_s=t0,
                    end_s=first_end,
                    factor=tx * peak_share,
                    **circ,
                )
            )
        if t0 + hold < min(t_peak, t_end) and tx < 1.0:
            out.append(
                Event(
                    kind="ran_outage",
                    target=area,
                    start_s=t0 + hold,
                    end_s=min(t_peak, t_end),
                    factor=(1.0 - tx) * peak_share,
                    **circ,
                )
            )
        # After the peak: exponential decay, one window at a time.
        start = max(t_peak, first_end) if t_peak <= t0 else t_peak
        while start < t_end:
            stop = min(start + p["window_s"], t_end)
            down = per_network_peak * math.exp(-k * (0.5 * (start + stop) - t_peak))
            share = min(1.0, down / denominator[area])
            if share * sites[area] < 0.5:
                break  # under half a base station down in the area: restored
            out.append(
                Event(
                    kind="ran_outage", target=area, start_s=start, end_s=stop, factor=share, **circ
                )
            )
            start = stop
        if p["ntn_delay_s"] > 0 and t0 < t_end:
            out.append(
                Event(
                    kind="ntn_access_down",
                    target=area,
                    start_s=t0,
                    end_s=min(t0 + p["ntn_delay_s"], t_end),
                    **circ,
                )
            )
    return out
