"""Japan's national internet traffic from MIC's published statistics.

The shipped table ``traffic_jp_mic.csv`` holds month-average bit rates that MIC publishes for
fixed broadband (FTTH, DSL, CATV, FWA; download and upload) and for mobile networks, each row
with its month and source. For a class ``c`` the national month-average at a time ``t`` (decimal
years, the middle of a month) is

* log-linear between two published months (so every published figure is reproduced), and
* ``x_last · (1 + g_c)^(t − t_last)`` after the last one (``x_first · (1 + g_c)^(t − t_first)``
  before the first), with ``g_c`` the class's growth basis in ``traffic_jp_growth.csv``: a CAGR
  between two named MIC figures, or a year-on-year rate MIC published.

A scenario asks for its ``year``: ``mean(year) = series(base_year) · (1 + g)^(year − base_year)``
where ``g`` is the section's ``growth_per_year`` or, when that is unset, the class's basis. Both
years are evaluated in November, MIC's survey month for fixed broadband.

The diurnal profile (``traffic_diurnal.csv``) is the hourly mean of Feknous et al. (2014)'s
fixed and mobile, download and upload profiles, placed at the middle of each local hour,
interpolated linearly and scaled to a mean of exactly 1 over the day, so that the day's average
of ``mean · profile`` is the month-average MIC reports.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import math
import re
from dataclasses import dataclass
from typing import Annotated, Final

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tsunagu.errors import DataError, ScenarioError

__all__ = [
    "CLASSES",
    "DEFAULT_DESTINATIONS",
    "NationalTraffic",
    "Observation",
    "TrafficSection",
    "spread_demand",
]

FloatArray = npt.NDArray[np.float64]

#: The four traffic classes MIC reports: fixed broadband and mobile, download and upload.
CLASSES: Final[tuple[str, ...]] = ("fixed_down", "fixed_up", "mobile_down", "mobile_up")

#: Month in which a scenario year is evaluated (MIC's fixed-broadband survey month).
SURVEY_MONTH: Final[int] = 11

#: Default destinations of national traffic and their weights. ASSUMPTION (no published split
#: found): 90 % to the internet exchange / content locations, split Tokyo 0.8 : Osaka 0.2, and
#: 10 % to the scenario's data centres.
DEFAULT_DESTINATIONS: Final[dict[str, float]] = {
    "tokyo": 0.72,
    "osaka": 0.18,
    "data_centres": 0.10,
}

_DAY_S: Final[float] = 86_400.0
_MONTH_RE: Final = re.compile(r"^(\d{4})-(\d{2})$")


def _decimal_year(year: int, month: int) -> float:
    """Middle of a month as decimal years (months of equal length)."""
    return year + (month - 0.5) / 12.0


def _parse_month(text: str, where: str) -> float:
    m = _MONTH_RE.match(text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise DataError(f"{where}: month must be YYYY-MM, got {text!r}")
    return _decimal_year(int(m.group(1)), int(m.group(2)))


class TrafficSection(BaseModel):
    """The scenario's ``traffic:`` section: national background traffic on the network.

    ``share`` is the fraction of Japan's national traffic that the scenario's operators carry;
    the default 1.0 means the national figures (all operators together), and results are
    labelled so.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )

    enabled: bool = True
    base_year: Annotated[int, Field(ge=2015, le=2030)] = 2023
    year: Annotated[int, Field(ge=2015, le=2060)] = 2030
    growth_per_year: Annotated[float, Field(gt=-0.5, lt=2.0)] | None = None
    share: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    destinations: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=lambda: dict(DEFAULT_DESTINATIONS)
    )
    scale: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0

    @field_validator("destinations")
    @classmethod
    def _some_weight(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or sum(v.values()) <= 0.0:
            raise ValueError(
                "destinations needs at least one positive weight, e.g. "
                "{tokyo: 0.72, osaka: 0.18, data_centres: 0.10}"
            )
        return v

    @property
    def label(self) -> str:
        """How to label the traffic in results (national figures or an operator share)."""
        if self.share == 1.0:
            return "national (all operators, MIC figures)"
        return f"{self.share:.0%} of national traffic (MIC figures)"


@dataclass(frozen=True)
class Observation:
    """One published month-average figure."""

    traffic_class: str
    time_yr: float
    mean_bps: float
    basis: str
    source: str


def _read_csv(name: str) -> list[dict[str, str]]:
    try:
        text = importlib.resources.files("tsunagu.data").joinpath(name).read_text("utf-8")
    except FileNotFoundError:
        raise DataError(f"shipped data file {name} is missing; reinstall tsunagu") from None
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _load_observations() -> tuple[Observation, ...]:
    out = []
    for i, row in enumerate(_read_csv("traffic_jp_mic.csv"), start=2):
        where = f"traffic_jp_mic.csv line {i}"
        c = row.get("class", "")
        if c not in CLASSES:
            raise DataError(f"{where}: class must be one of {CLASSES}, got {c!r}")
        try:
            v = float(row["mean_bps"])
        except (KeyError, ValueError):
            raise DataError(f"{where}: mean_bps must be a number in bit/s") from None
        if not v > 0.0:
            raise DataError(f"{where}: mean_bps must be > 0")
        out.append(
            Observation(c, _parse_month(row["month"], where), v, row["basis"], row["source"])
        )
    return tuple(out)


@functools.cache
def _load_growth(obs: tuple[Observation, ...]) -> tuple[tuple[str, float, str], ...]:
    out = []
    for i, row in enumerate(_read_csv("traffic_jp_growth.csv"), start=2):
        where = f"traffic_jp_growth.csv line {i}"
        c = row["class"]
        if row["method"] == "cagr":
            t0 = _parse_month(row["from_month"], where)
            t1 = _parse_month(row["to_month"], where)
            pts = {o.time_yr: o.mean_bps for o in obs if o.traffic_class == c}
            if t0 not in pts or t1 not in pts or t1 <= t0:
                raise DataError(f"{where}: from_month and to_month must be published {c} months")
            g = (pts[t1] / pts[t0]) ** (1.0 / (t1 - t0)) - 1.0
        elif row["method"] == "published":
            g = float(row["rate_per_year"])
        else:
            raise DataError(f"{where}: method must be 'cagr' or 'published'")
        out.append((c, g, row["source"]))
    return tuple(out)


@functools.cache
def _load_profile() -> tuple[tuple[float, ...], ...]:
    rows = _read_csv("traffic_diurnal.csv")
    if [int(r["hour"]) for r in rows] != list(range(24)):
        raise DataError("traffic_diurnal.csv must have one row per hour 0..23")
    cols = []
    for c in CLASSES:
        w = np.array([float(r[c]) for r in rows], dtype=np.float64)
        if np.any(w < 0.0) or not w.max() > 0.0:
            raise DataError(f"traffic_diurnal.csv column {c}: weights must be >= 0, peak > 0")
        cols.append(tuple(float(x) for x in w))
    return tuple(cols)


@dataclass(frozen=True)
class NationalTraffic:
    """Published national traffic series, growth bases and diurnal profiles (shipped data)."""

    observations: tuple[Observation, ...]
    growth_per_year: dict[str, float]
    growth_basis: dict[str, str]
    hourly_profile: dict[str, FloatArray]

    @classmethod
    def load(cls) -> NationalTraffic:
        """Read the shipped MIC figures, growth bases and diurnal profiles."""
        obs = _load_observations()
        growth = _load_growth(obs)
        missing = [c for c in CLASSES if c not in {o.traffic_class for o in obs}]
        if missing or sorted(g[0] for g in growth) != sorted(CLASSES):
            raise DataError(f"shipped traffic data lacks classes {missing or 'in growth table'}")
        prof = _load_profile()
        return cls(
            observations=obs,
            growth_per_year={c: g for c, g, _ in growth},
            growth_basis={c: s for c, _, s in growth},
            hourly_profile={
                c: np.asarray(p, dtype=np.float64) / float(np.mean(p))
                for c, p in zip(CLASSES, prof, strict=True)
            },
        )

    def series_bps(self, traffic_class: str, time_yr: float) -> float:
        """Month-average national rate of a class at ``time_yr`` (decimal years), from the
        published points (log-linear between them, the growth basis outside them)."""
        self._check_class(traffic_class)
        pts = sorted(
            (o.time_yr, o.mean_bps) for o in self.observations if o.traffic_class == traffic_class
        )
        t = np.array([p[0] for p in pts])
        x = np.log(np.array([p[1] for p in pts]))
        g = math.log1p(self.growth_per_year[traffic_class])
        if time_yr <= t[0]:
            return float(math.exp(x[0] + g * (time_yr - t[0])))
        if time_yr >= t[-1]:
            return float(math.exp(x[-1] + g * (time_yr - t[-1])))
        return float(np.exp(np.interp(time_yr, t, x)))

    def mean_bps(
        self,
        year: int,
        *,
        base_year: int | None = None,
        growth_per_year: float | None = None,
    ) -> dict[str, float]:
        """National month-average rate (bit/s) per class in November of ``year``.

        With ``base_year`` the published series is read at the base year and grown to ``year``
        at ``growth_per_year`` (or each class's basis); without it the series is read at
        ``year`` directly.
        """
        t = _decimal_year(year, SURVEY_MONTH)
        if base_year is None:
            return {c: self.series_bps(c, t) for c in CLASSES}
        t0 = _decimal_year(base_year, SURVEY_MONTH)
        out = {}
        for c in CLASSES:
            g = self.growth_per_year[c] if growth_per_year is None else growth_per_year
            out[c] = self.series_bps(c, t0) * (1.0 + g) ** (year - base_year)
        return out

    def profile(
        self, time_of_day_s: npt.ArrayLike, traffic_class: str = "fixed_down"
    ) -> FloatArray:
        """Diurnal multiplier at local time of day (s after local midnight); mean 1 over a day.

        Piecewise linear through the hourly means placed at each hour's middle, periodic.
        """
        self._check_class(traffic_class)
        tod = np.asarray(time_of_day_s, dtype=np.float64)
        if not np.all(np.isfinite(tod)):
            raise ScenarioError("time_of_day_s must be finite seconds after local midnight")
        w = self.hourly_profile[traffic_class]
        knots_h = np.arange(-0.5, 25.0, 1.0)  # hour -1 .. 24 middles, periodic wrap
        vals = np.concatenate(([w[-1]], w, [w[0]]))
        h = np.mod(tod, _DAY_S) / 3600.0
        return np.asarray(np.interp(h, knots_h, vals), dtype=np.float64)

    def busy_hour(self, traffic_class: str = "fixed_down") -> int:
        """Local hour (0..23) whose shipped profile weight is the largest."""
        self._check_class(traffic_class)
        return int(np.argmax(self.hourly_profile[traffic_class]))

    def offered_bps(
        self, section: TrafficSection, time_of_day_s: npt.ArrayLike
    ) -> dict[str, FloatArray]:
        """Offered national traffic (bit/s) per class at each local time of day.

        ``mean_bps(year grown from base_year) × share × scale × profile(t)``; zero when the
        section is disabled.
        """
        tod = np.asarray(time_of_day_s, dtype=np.float64)
        if not section.enabled:
            return {c: np.zeros_like(tod) for c in CLASSES}
        mean = self.mean_bps(
            section.year, base_year=section.base_year, growth_per_year=section.growth_per_year
        )
        k = section.share * section.scale
        return {c: mean[c] * k * self.profile(tod, c) for c in CLASSES}

    def demand_bps(
        self,
        section: TrafficSection,
        population: npt.ArrayLike,
        time_of_day_s: npt.ArrayLike,
    ) -> tuple[tuple[str, ...], dict[str, FloatArray]]:
        """Offered traffic per class as (T, P, D) arrays: steps × demand points × destinations.

        Returns the destination names (in the section's order) and, per class,
        ``spread_demand(population, weights, offered_bps(section, t)[class])``.
        """
        names = tuple(section.destinations)
        weights = np.array([section.destinations[n] for n in names], dtype=np.float64)
        tod = np.atleast_1d(np.asarray(time_of_day_s, dtype=np.float64))
        offered = self.offered_bps(section, tod)
        return names, {c: spread_demand(population, weights, offered[c]) for c in CLASSES}

    @staticmethod
    def _check_class(traffic_class: str) -> None:
        if traffic_class not in CLASSES:
            raise ScenarioError(f"unknown traffic class {traffic_class!r}; use one of {CLASSES}")


def spread_demand(
    population: npt.ArrayLike, dest_weight: npt.ArrayLike, total_bps: npt.ArrayLike
) -> FloatArray:
    """Split a national total over demand points (by population) and destinations (by weight).

    ``out[..., p, d] = total · population_p / Σ population · weight_d / Σ weight``; a scalar
    ``total_bps`` gives (P, D), a (T,) series gives (T, P, D). The sum over points and
    destinations equals the total to floating-point rounding.
    """
    pop = np.asarray(population, dtype=np.float64)
    w = np.asarray(dest_weight, dtype=np.float64)
    tot = np.asarray(total_bps, dtype=np.float64)
    if pop.ndim != 1 or w.ndim != 1 or tot.ndim > 1:
        raise ScenarioError(
            "spread_demand needs population (P,), dest_weight (D,) and a scalar or (T,) total_bps"
        )
    for name, a in (("population", pop), ("dest_weight", w), ("total_bps", tot)):
        if not np.all(np.isfinite(a)) or np.any(a < 0.0):
            raise ScenarioError(f"{name} must be finite and non-negative")
    if not pop.sum() > 0.0 or not w.sum() > 0.0:
        raise ScenarioError("population and dest_weight each need a positive sum")
    share = np.outer(pop / pop.sum(), w / w.sum())
    return np.asarray(tot[..., None, None] * share, dtype=np.float64)
