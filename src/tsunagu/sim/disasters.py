"""Disaster presets: public outage figures turned into concrete, time-windowed events.

A scenario event ``{preset: noto-2024, start_s: ...}`` expands, against the built twin, into
``ran_outage``, ``region_power_loss`` and ``ntn_access_down`` events (docs/disasters.md gives
every figure, its source and how each parameter is derived). The model of a preset:

* **Base stations down** per mobile network, ``N(t)``: the reported count of base stations down
  summed over the carriers, divided by the number of carriers (the twin plans one network).
  Before the reported peak, the share caused by cut transmission links goes down at the
  earthquake and the share caused by power loss after the battery hold-up time.
* **Restoration after the peak: two populations** (:func:`two_population_share`),
  ``N(t) = N_peak ((1 - s) exp(-k_fast dt) + s exp(-k_slow dt))``, ``dt = t - t_peak``, applied
  in windows of ``window_s``. The physical picture: most base stations stop because their
  batteries run out after the mains fail (Tohoku 2011: about 80 % of the outages from power
  loss, batteries 1-3 h; REFERENCES.md "Disasters") and come back as soon as power or a mobile
  generator reaches them; the rest (``s``) have their transmission links cut or their site
  damaged (Noto 2024: about 60 % from cut transmission links) and wait for crews that reach
  them over cut roads. The MIC White Paper 2024 (Part I ch. 1 §2(2), the page cited for the 839
  peak in data/SOURCES.md) names both causes, long power cuts and transmission links cut by
  landslides, and dates the end of emergency restoration (mobile base station vehicles,
  portable satellite antennas and generators) to 15 Jan (KDDI, SoftBank, Rakuten) and 17 Jan
  (docomo) "except at points that could not be entered", which were then restored within 2-3
  days of their road being cleared. ``s`` is the preset's
  ``transmission_share`` (the published cause share, not fitted); the two rates are fitted
  once, by least squares on ``ln N``, to the ``peak`` and ``fit`` rows of
  ``data/disaster_counts.csv`` of both events together (:func:`fit_restoration_rates`,
  :func:`published_restoration_fit`): 7 counts, 2 parameters, 5 degrees of freedom. The rates
  are shared because they describe the restoration work (generators and mains; crews over
  repaired roads), the shares describe the damage. Noto's two fit counts alone cannot
  separate two populations: they fall faster in the second interval than in the first, which no
  sum of two decaying exponentials does, so a Noto-only fit collapses to one exponential.
* **Tested on held-out counts** (the ``test`` rows; tests/validation/test_disaster_noto.py,
  docs/validation.md): Noto 31 Jan 2024, 65 down against 122 (-46 %; the single exponential
  gave 27, -78 %); 1 Jul 2024, none against 15 (12 of them Rakuten sites with no area
  impaired: a permanent remainder neither model holds); Tohoku 2011 from -54 % (docomo) to -1 %
  (au). The single exponential of the first version is kept as :func:`decay_rate_per_s` for
  the comparison.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import scipy.optimize

from tsunagu.errors import DataError, ModelRangeError, ScenarioError
from tsunagu.scenario.schema import Event

__all__ = [
    "PRESETS",
    "CountSeries",
    "DisasterPreset",
    "ReportedCount",
    "RestorationFit",
    "count_series",
    "decay_rate_per_s",
    "expand_disaster",
    "fit_restoration_rates",
    "published_counts",
    "published_restoration_fit",
    "two_population_share",
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


# Share of the outages not caused by power loss (transmission links cut, sites damaged): the
# slow population of the restoration model. Published cause shares (REFERENCES.md "Disasters"):
# Noto 2024 ~60 % from cut transmission links; Tohoku 2011 ~80 % from power loss.
_SLOW_SHARE = {"noto-2024": 0.6, "tohoku-2011": 1.0 - 0.8}


def decay_rate_per_s(points: tuple[tuple[float, float], ...], peak: tuple[float, float]) -> float:
    """Single-exponential decay rate (1/s) of outage counts, least squares on ``ln N``.

    Fits ``ln N(t) = ln N_peak - k (t - t_peak)`` with the line pinned at the peak. This was the
    presets' first restoration model; it is kept for the comparison with
    :func:`two_population_share` (on held-out counts it restores far too fast:
    docs/validation.md).

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


def two_population_share(
    elapsed_s: npt.ArrayLike,
    slow_share: npt.ArrayLike,
    k_fast_per_s: float,
    k_slow_per_s: float,
) -> npt.NDArray[np.float64]:
    """Share of the peak's base stations still down ``elapsed_s`` after the peak.

    ``(1 - s) exp(-k_fast t) + s exp(-k_slow t)``: the power-loss population (share ``1 - s``)
    comes back at ``k_fast`` as mains and generators arrive, the population with cut
    transmission links or damaged sites (share ``s``) at ``k_slow`` as crews reach it. Arrays
    broadcast; ``elapsed_s`` must be ``>= 0`` (before the peak the count is not this model's).

    Examples
    --------
    >>> float(two_population_share(0.0, 0.3, 1e-5, 1e-6))
    1.0
    >>> round(float(two_population_share(86_400.0 * math.log(2), 0.5, 1 / 86_400, 0.0)), 6)
    0.75
    """
    t = np.asarray(elapsed_s, dtype=float)
    s = np.asarray(slow_share, dtype=float)
    if np.any(t < 0) or np.any((s < 0) | (s > 1)):
        raise ModelRangeError(
            "two_population_share: elapsed_s must be >= 0 (seconds after the peak) and "
            "slow_share in [0, 1]"
        )
    out: npt.NDArray[np.float64] = (1.0 - s) * np.exp(-k_fast_per_s * t) + s * np.exp(
        -k_slow_per_s * t
    )
    return out


@dataclass(frozen=True)
class CountSeries:
    """One operator's counts after one disaster, as the restoration fit sees them.

    ``peak`` and ``points`` are ``(seconds after the earthquake, base stations down)``;
    ``slow_share`` is the share of the outages not caused by power loss.
    """

    name: str
    peak: tuple[float, float]
    points: tuple[tuple[float, float], ...]
    slow_share: float


@dataclass(frozen=True)
class RestorationFit:
    """Rates of the two-population model fitted to published counts (:func:`fit_restoration_rates`).

    ``residuals_ln`` are ``ln(model / reported)`` per fitted count, in the order of the series;
    ``dof`` is the number of counts minus the two fitted rates.
    """

    k_fast_per_s: float
    k_slow_per_s: float
    series: tuple[str, ...]
    residuals_ln: tuple[float, ...]
    dof: int


def fit_restoration_rates(series: Sequence[CountSeries]) -> RestorationFit:
    """Least squares on ``ln N`` of :func:`two_population_share`'s two rates, shared by all series.

    Each series keeps its own peak and slow share; ``k_fast >= k_slow >= 0`` is enforced (the
    fast population is the one that comes back first).

    Raises
    ------
    DataError
        With fewer than three counts after the peaks (two rates need at least one degree of
        freedom), or a count before its peak.

    Examples
    --------
    >>> day = 86_400.0
    >>> pts = tuple((t * day, 100 * (0.5 * math.exp(-0.5 * t) + 0.5 * math.exp(-0.05 * t)))
    ...             for t in (1.0, 4.0, 10.0))
    >>> fit = fit_restoration_rates([CountSeries("toy", (0.0, 100.0), pts, 0.5)])
    >>> round(fit.k_fast_per_s * day, 4), round(fit.k_slow_per_s * day, 4), fit.dof
    (0.5, 0.05, 1)
    """
    dt_d, y, share = [], [], []
    for c in series:
        for t, n in c.points:
            if t < c.peak[0]:
                raise DataError(
                    f"restoration fit, series {c.name!r}: a count at {t:g} s precedes the peak "
                    f"at {c.peak[0]:g} s; give only counts after the peak"
                )
            dt_d.append((t - c.peak[0]) / _DAY_S)
            y.append(math.log(n / c.peak[1]))
            share.append(c.slow_share)
    if len(y) < 3:
        raise DataError(
            f"restoration fit: {len(y)} count(s) after the peaks for two rates; give at least 3"
        )
    t_arr, y_arr, s_arr = np.array(dt_d), np.array(y), np.array(share)

    def residuals(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        k_slow, k_extra = x  # per day; k_fast = k_slow + k_extra
        model = two_population_share(t_arr, s_arr, k_slow + k_extra, k_slow)
        out: npt.NDArray[np.float64] = np.log(model) - y_arr
        return out

    # Start from the single exponential through all counts: k_slow below it, k_fast above.
    k1 = float(np.dot(t_arr, -y_arr) / np.dot(t_arr, t_arr))
    sol = scipy.optimize.least_squares(
        residuals,
        x0=[0.5 * k1, 1.5 * k1],
        bounds=([0.0, 0.0], [np.inf, np.inf]),
        x_scale=k1,
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
    )
    k_slow_d, k_extra_d = (float(v) for v in sol.x)
    return RestorationFit(
        k_fast_per_s=(k_slow_d + k_extra_d) / _DAY_S,
        k_slow_per_s=k_slow_d / _DAY_S,
        series=tuple(c.name for c in series),
        residuals_ln=tuple(float(r) for r in sol.fun),
        dof=len(y) - 2,
    )


def count_series(event: str, roles: tuple[str, ...] = ("fit",)) -> tuple[CountSeries, ...]:
    """Each operator's published counts of ``event`` with the given roles, after its peak."""
    counts = published_counts(event)
    peaks = {c.operator: (c.after_s, c.base_stations_down) for c in counts if c.role == "peak"}
    return tuple(
        CountSeries(
            name=f"{event}/{op}",
            peak=peak,
            points=tuple(
                (c.after_s, c.base_stations_down)
                for c in counts
                if c.operator == op and c.role in roles
            ),
            slow_share=_SLOW_SHARE[event],
        )
        for op, peak in sorted(peaks.items())
    )


@functools.cache
def published_restoration_fit() -> RestorationFit:
    """The presets' restoration rates: fitted to the ``peak`` and ``fit`` rows only.

    Noto 2024 (839 peak; 600, 215) and Tohoku 2011 (docomo, au, SoftBank peaks; 5 counts): 7
    counts, 2 rates, 5 degrees of freedom. The ``test`` rows are never read here.

    Examples
    --------
    >>> fit = published_restoration_fit()
    >>> round(fit.k_fast_per_s * 86_400, 3), round(fit.k_slow_per_s * 86_400, 4), fit.dof
    (0.242, 0.0726, 5)
    """
    return fit_restoration_rates(count_series("noto-2024") + count_series("tohoku-2011"))


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
        outages caused by cut transmission links or damaged sites, the rest by power loss; also
        the slow population of the restoration), ``battery_hold_s``, ``peak_after_s``,
        ``k_fast_per_s`` and ``k_slow_per_s`` (the restoration rates after the peak,
        :func:`published_restoration_fit`), ``ntn_delay_s``, ``window_s``.
    """

    name: str
    description: str
    areas: tuple[str, ...]
    center_lat_deg: float | None
    center_lon_deg: float | None
    radius_km: float | None
    params: Mapping[str, float]
    reference_area: tuple[str, ...] = field(default=())


_FIT = published_restoration_fit()
_RATES = {"k_fast_per_s": _FIT.k_fast_per_s, "k_slow_per_s": _FIT.k_slow_per_s}

# Noto Peninsula earthquake, 2024-01-01 16:10 JST, M7.6; JMA epicentre 37.495 N, 137.270 E.
# Counts (all four carriers, data/disaster_counts.csv): peak 839 on Jan 3 07:30 (MIC report 13),
# fitted (with Tohoku's) to about 600 on Jan 6 14:30 and 215 on Jan 14; 122 on Jan 31 and 15 on
# Jul 1 are held out for the validation. ~60 % of outages from cut transmission links. Starlink
# kits in use in Wajima on Jan 5 (Kyodo, photo of 2024-01-05).
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
        "transmission_share": _SLOW_SHARE["noto-2024"],
        "battery_hold_s": 3.0 * _HOUR_S,
        # Jan 1 16:10 -> Jan 3 07:30 (the ministry's report 13): 39.3 h.
        "peak_after_s": _NOTO_PEAK.after_s,
        **_RATES,
        # Jan 1 16:10 -> Jan 5 12:00: first satellite kits in use.
        "ntn_delay_s": 91.8 * _HOUR_S,
        "window_s": _HOUR_S,
    },
)

# Great East Japan earthquake, 2011-03-11 14:46 JST, M9.0. ~29,000 base stations stopped, of
# which mobile: docomo 6,720, au 3,680, SoftBank 3,786 (PHS 13,760 excluded: not a 5G analogue);
# ~80 % from power loss, batteries 1-3 h (REFERENCES.md). After the peak the restoration rates
# fitted to both events' counts (the per-operator Tohoku counts are in data/disaster_counts.csv).
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
        "transmission_share": _SLOW_SHARE["tohoku-2011"],
        "battery_hold_s": 2.0 * _HOUR_S,  # middle of the reported 1-3 h
        "peak_after_s": 2.0 * _HOUR_S,  # the peak once batteries run out
        **_RATES,
        "ntn_delay_s": 91.8 * _HOUR_S,  # the 2024 satellite-kit delay (no 2011 LEO service)
        "window_s": _HOUR_S,
    },
)

# A Nankai-Trough-like earthquake: no outage has been observed, so the Tohoku-2011 share of
# base stations down in the Tohoku region of the twin is applied to the prefectures along the
# trough's coast, with Tohoku's causes, timing and restoration.
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
    if not 0.0 <= p["k_slow_per_s"] <= p["k_fast_per_s"]:
        raise ScenarioError(
            f"events[{index}]: params need 0 <= k_slow_per_s <= k_fast_per_s (the slow population "
            f"comes back last), not {p['k_slow_per_s']:g} and {p['k_fast_per_s']:g}"
        )
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
        # After the peak: the two populations come back, one window at a time.
        start = max(t_peak, first_end) if t_peak <= t0 else t_peak
        while start < t_end:
            stop = min(start + p["window_s"], t_end)
            down = per_network_peak * float(
                two_population_share(
                    0.5 * (start + stop) - t_peak, tx, p["k_fast_per_s"], p["k_slow_per_s"]
                )
            )
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
