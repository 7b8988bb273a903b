"""National background traffic on the twin: how much each demand point sends and receives, and
where it goes, at each step.

Japan's published traffic (:mod:`tsunagu.traffic.national`: MIC's month averages grown to the
scenario year, with the diurnal profile) is spread over the demand points by population: a
point of ``n`` people offers ``n / N`` of the national rate of each class, with ``N`` the
population of all of Japan's demand points (before any ``demand.areas`` filter, so a regional
run carries its own share of the national traffic, not all of it).

* **Fixed broadband** (``fixed_down``, ``fixed_up``) enters the network at the point's central
  office: FTTH, DSL, CATV and FWA end there. FTTH's share of it first rides the point's PON
  trees, which admit it within their capacity (:mod:`tsunagu.sim.fixed_access`); the rest has
  no access bottleneck. The access delay is in :mod:`tsunagu.traffic.lastmile`.
* **Mobile** (``mobile_down``, ``mobile_up``) rides the point's access rows (RAN cells, HAPS
  beams, LEO beams) in proportion to the people each carries, and shares those resources with
  the AI requests (:func:`tsunagu.sim.stages.demand_stage`).

Destinations are the section's ``destinations``: a city name is every backbone node of that
city (``tokyo`` → ``A:Tokyo``, ``B:Tokyo DC1``, ...), a compute site's name is that site, and
``data_centres`` is every compute site. A destination receives its weight's share of every
point's traffic and is reached at whichever of its nodes the routing prefers (anycast: content
and cloud services answer at any of a city's exchange and data-centre nodes), so its traffic
spreads over its nodes as their paths have room. Download flows from the destination to the
point, upload from the point to the destination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import ScenarioError
from tsunagu.traffic.national import CLASSES, NationalTraffic, TrafficSection

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = [
    "CLASS_NAMES",
    "Background",
    "Destinations",
    "resolve_destinations",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Demand classes of the routing stage: the AI requests and responses, then MIC's four classes.
CLASS_NAMES: Final[tuple[str, ...]] = ("ai", *CLASSES)

#: The destination name that stands for every compute site, weighted by its GPUs.
DATA_CENTRES: Final = "data_centres"


@dataclass(frozen=True)
class Destinations:
    """Destinations of background traffic: each a group of nodes (anycast) with its share.

    ``node``/``group_of`` list every member node and its group; ``names``/``weight`` the
    groups in the section's order and the share of traffic each receives (summing to 1).
    """

    node: IntArray  # (J,) member node ids
    group_of: IntArray  # (J,) index of each member's group
    names: tuple[str, ...]  # (G,) the section's destination names
    weight: FloatArray  # (G,) shares, summing to 1


def resolve_destinations(twin: Twin, section: TrafficSection) -> Destinations:
    """The nodes of the section's destinations (see the module docstring)."""
    nodes = twin.static.nodes
    names = np.asarray(nodes.name, dtype=str)
    backbone = np.flatnonzero(np.asarray(nodes.domain) == "optical")
    # Backbone names are "operator:place"; the place is matched, case-insensitively.
    place = np.array([n.split(":", 1)[-1].casefold() for n in names[backbone]], dtype=str)
    site_names = [s.name.casefold() for s in twin.scenario.compute.sites]
    total = float(sum(section.destinations.values()))
    out_node: list[int] = []
    out_group: list[int] = []
    names_out: list[str] = []
    weights: list[float] = []
    for dest, weight in section.destinations.items():
        if weight <= 0.0:
            continue
        key = dest.casefold()
        if key == DATA_CENTRES:
            if len(site_names) == 0:
                raise ScenarioError(
                    "traffic.destinations names data_centres but the scenario has no compute "
                    "site; add compute.sites or drop data_centres"
                )
            idx = np.asarray(twin.idx_site)
        elif key in site_names:
            idx = np.asarray([twin.idx_site[site_names.index(key)]])
        else:
            idx = backbone[(place == key) | np.char.startswith(place, key + " ")]
            if idx.size == 0:
                cities = sorted({n.split(":", 1)[-1].split(" ")[0] for n in names[backbone]})
                raise ScenarioError(
                    f"traffic.destinations: {dest!r} is no backbone city, compute site or "
                    f"'{DATA_CENTRES}'; backbone cities: {', '.join(cities)}"
                )
        out_node.extend(int(i) for i in idx)
        out_group.extend([len(names_out)] * idx.size)
        names_out.append(dest)
        weights.append(weight / total)
    return Destinations(
        node=np.asarray(out_node, dtype=np.int64),
        group_of=np.asarray(out_group, dtype=np.int64),
        names=tuple(names_out),
        weight=np.asarray(weights, dtype=np.float64),
    )


class Background:
    """The twin's national background traffic: per-person rates per class and destinations.

    Built once per run; :meth:`per_person_bps` is asked at each step.
    """

    def __init__(self, twin: Twin, national: NationalTraffic | None = None) -> None:
        self.section: TrafficSection = twin.scenario.traffic
        self.national = NationalTraffic.load() if national is None else national
        self.destinations = resolve_destinations(twin, self.section)
        n_ref = float(twin.national_population)
        if not n_ref > 0.0:
            raise ScenarioError("the scenario has no population to spread national traffic over")
        self._per_person = 1.0 / n_ref

    def per_person_bps(self, hour_local: float) -> dict[str, float]:
        """Offered rate per person (bit/s) of each MIC class at a local hour."""
        offered = self.national.offered_bps(self.section, np.array([hour_local * 3600.0]))
        return {c: float(offered[c][0]) * self._per_person for c in CLASSES}
