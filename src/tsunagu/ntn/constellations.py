"""Constellation presets: Walker shells from operators' FCC/ITU filings (REFERENCES.md).

Each preset is a tuple of :class:`Shell` (Walker ``i: t/p/f`` at one altitude). Plane counts,
satellites per plane, altitudes and inclinations are the filed figures listed in REFERENCES.md
("Satellites and HAPS", from the operators' FCC filings):

* **Starlink Gen1**: 72×22 at 550 km/53°, 72×22 at 540 km/53.2°, 36×20 at 570 km/70°, and
  348 + 172 at 560 km/97.6° (split here as 6 planes × 58 and 4 × 43, the plane counts of the
  2021 FCC modification as we understand it) — 4,408 satellites.
* **Kuiper**: 34×34 at 630 km/51.9°, 36×36 at 610 km/42°, 28×28 at 590 km/33° — 3,236.
* **OneWeb** phase 1: 12×49 at 1,200 km/87.9° — 588.
* **Telesat Lightspeed**: 27×13 at 1,015 km/98.98° and 40×33 at 1,325 km/50.88° — 1,671.
* **O3b mPOWER-like MEO**: one equatorial ring at 8,062 km; the count, 11 satellites, is an
  assumption (SES's first-generation order), not a filed figure.

**Assumptions** (not in the filings): the Walker phasing factor ``f`` (operators do not publish
it; we use ``f = 1`` except Starlink shell 1, where ``f = 39`` matches tsunagu's built-in
scenario; ``Shell.phase_mode = "hypatia"`` gives Hypatia's half-slot shift of odd planes
instead), the RAAN of the first plane (0°), and the node spread: 360° ("delta") for inclined
shells, 180° ("star") for the near-polar OneWeb and Telesat polar shells and the Starlink polar
shells, whose planes would otherwise overlap in counter-rotating pairs.

**Epoch**: a preset has no epoch of its own; :func:`shell_elements` takes it as an argument
(``tsunagu ntn rtt --epoch``, default 2026-01-01T00:00Z; Hypatia's files use 2000-01-01T00:00).
At the epoch the first plane's node lies at RAAN 0° in TEME and its first satellite at the
ascending node. The preset's mean motion is the two-body one of ``WGS84_A_M + altitude``
(Kuiper-630: 14.798 rev/day), not a filed figure (Hypatia uses 14.80 rev/day for that shell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError
from tsunagu.ntn import orbits
from tsunagu.ntn.isl import PLUS_GRID, grid_isl_pairs
from tsunagu.ntn.orbits import PhaseMode, WalkerPattern
from tsunagu.ntn.tle import ElementSet

__all__ = [
    "PRESETS",
    "Shell",
    "isl_pairs_for_shells",
    "preset",
    "preset_names",
    "shell_elements",
    "shell_positions_ecef_m",
]


@dataclass(frozen=True)
class Shell:
    """One Walker shell ``inclination: total/planes/phasing`` at ``altitude_m``.

    Construction validates the shell (altitude >= 160 km, inclination 0–180°, planes and
    satellites per plane >= 1, phasing 0…planes−1) and raises :class:`ModelRangeError` with the
    reason.
    """

    name: str
    planes: int
    sats_per_plane: int
    phasing: int
    altitude_m: float
    inclination_deg: float
    pattern: WalkerPattern = "delta"
    raan0_deg: float = 0.0
    phase_mode: PhaseMode = "walker"

    def __post_init__(self) -> None:
        # The orbit module owns the checks; call it on an empty time axis.
        orbits.walker_positions_eci_m(
            self.planes,
            self.sats_per_plane,
            self.phasing,
            self.altitude_m,
            self.inclination_deg,
            np.zeros(0),
            self.pattern,
            self.raan0_deg,
            phase_mode=self.phase_mode,
        )

    @property
    def size(self) -> int:
        """Number of satellites."""
        return self.planes * self.sats_per_plane


def _s(name: str, p: int, s: int, f: int, h_km: float, inc: float, pat: WalkerPattern) -> Shell:
    return Shell(name, p, s, f, h_km * 1e3, inc, pat)


#: Preset constellations by name; shells in filing order.
PRESETS: Final[dict[str, tuple[Shell, ...]]] = {
    "starlink-gen1": (
        _s("starlink-550", 72, 22, 39, 550.0, 53.0, "delta"),
        _s("starlink-540", 72, 22, 1, 540.0, 53.2, "delta"),
        _s("starlink-570", 36, 20, 1, 570.0, 70.0, "delta"),
        _s("starlink-560a", 6, 58, 1, 560.0, 97.6, "star"),
        _s("starlink-560b", 4, 43, 1, 560.0, 97.6, "star"),
    ),
    "kuiper": (
        _s("kuiper-630", 34, 34, 1, 630.0, 51.9, "delta"),
        _s("kuiper-610", 36, 36, 1, 610.0, 42.0, "delta"),
        _s("kuiper-590", 28, 28, 1, 590.0, 33.0, "delta"),
    ),
    "oneweb": (_s("oneweb-1200", 12, 49, 1, 1200.0, 87.9, "star"),),
    "telesat": (
        _s("telesat-1015", 27, 13, 1, 1015.0, 98.98, "star"),
        _s("telesat-1325", 40, 33, 1, 1325.0, 50.88, "delta"),
    ),
    "o3b-mpower": (_s("o3b-mpower-8062", 1, 11, 0, 8062.0, 0.0, "delta"),),
}
# Single shells are presets too (e.g. "starlink-550", "kuiper-630").
PRESETS.update({s.name: (s,) for shells in list(PRESETS.values()) for s in shells})
PRESETS["starlink-gen1-shell1"] = PRESETS["starlink-550"]


def preset_names() -> list[str]:
    """Names accepted by :func:`preset`, sorted."""
    return sorted(PRESETS)


def preset(name: str) -> tuple[Shell, ...]:
    """Shells of a preset constellation.

    Raises
    ------
    ModelRangeError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> sum(s.size for s in preset("starlink-gen1"))
    4408
    """
    key = name.strip().lower()
    if key not in PRESETS:
        raise ModelRangeError(
            f"unknown constellation preset {name!r}; choose one of {', '.join(preset_names())} "
            "or pass a TLE/OMM file."
        )
    return PRESETS[key]


def shell_elements(shells: tuple[Shell, ...], epoch_utc: datetime) -> ElementSet:
    """SGP4 mean elements of every satellite of ``shells`` (shell by shell, plane by plane)."""
    out: ElementSet | None = None
    first = 1
    for sh in shells:
        es = orbits.walker_elements(
            sh.planes,
            sh.sats_per_plane,
            sh.phasing,
            sh.altitude_m,
            sh.inclination_deg,
            epoch_utc,
            sh.pattern,
            sh.raan0_deg,
            first_satnum=first,
            name=sh.name,
            phase_mode=sh.phase_mode,
        )
        first += sh.size
        out = es if out is None else out + es
    if out is None:
        raise ModelRangeError("shell_elements: pass at least one shell.")
    return out


def shell_positions_ecef_m(
    shells: tuple[Shell, ...], time_s: ArrayLike, epoch_gmst_rad: float = 0.0
) -> NDArray[np.float64]:
    """Two-body (no J2) Earth-fixed positions (T, N, 3) of every shell, concatenated.

    The fast analytic path (:func:`tsunagu.ntn.orbits.walker_positions_ecef_m`); use
    :func:`shell_elements` with SGP4 where perturbations matter.
    """
    parts = [
        orbits.walker_positions_ecef_m(
            s.planes,
            s.sats_per_plane,
            s.phasing,
            s.altitude_m,
            s.inclination_deg,
            time_s,
            s.pattern,
            s.raan0_deg,
            epoch_gmst_rad,
            phase_mode=s.phase_mode,
        )
        for s in shells
    ]
    if not parts:
        raise ModelRangeError("shell_positions_ecef_m: pass at least one shell.")
    return np.concatenate(parts, axis=1)


def isl_pairs_for_shells(
    shells: Sequence[Shell], pattern: Sequence[tuple[int, int]] = PLUS_GRID
) -> NDArray[np.int64]:
    """ISL pairs of each shell's regular pattern (+Grid by default), satellites numbered as in
    :func:`shell_elements` and :func:`shell_positions_ecef_m`.

    No links between shells. Delta shells wrap their last plane to the first; star shells do
    not (their first and last planes counter-rotate).

    Examples
    --------
    >>> isl_pairs_for_shells(preset("starlink-gen1")).shape
    (8715, 2)
    """
    parts = []
    first = 0
    for sh in shells:
        parts.append(
            grid_isl_pairs(
                sh.planes,
                sh.sats_per_plane,
                pattern,
                cross_seam=sh.pattern == "delta",
                first_index=first,
            )
        )
        first += sh.size
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(parts)
