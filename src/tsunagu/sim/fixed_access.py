"""Fixed access: each demand point's FTTH subscribers on PON trees, each tree's downstream and
upstream capacity shared by the subscribers of its split.

A passive optical network (PON) tree is one optical line terminal port at the central office
and a passive splitter that shares its fibre among ``split`` subscribers: downstream is one
broadcast TDM channel, upstream one TDMA channel, each with the technology's rate
(``pon_technologies.csv``: GE-PON, IEEE 802.3ah, 1 Gb/s; 10G-EPON, IEEE 802.3av; XGS-PON, ITU-T
G.9807.1, 10 Gb/s). A point of ``n`` people has ``s = n · subscriptions_per_person`` FTTH
subscribers on ``⌈s / split⌉`` trees; the share ``traffic_share`` of the point's fixed
broadband traffic (FTTH's share of the fixed-broadband contracts; the rest, CATV and DSL, still
enters at the office without an access bottleneck) is offered to its trees.

Admission (:func:`admit_fixed`) treats each direction of a point's trees as one shared resource
of ``trees × rate``: its offered load is admitted up to ``max_utilisation`` of that capacity
(the same ``capacity.access_max_utilisation`` as the cells and beams,
:func:`tsunagu.sim.access.admit_shared`) and the rest is blocked at the point's trees.
Assumption: the subscribers are spread evenly over the point's trees, so their loads are
equal and pooling them is exact up to the last, partly filled tree (which the pool lends its
spare room).
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError, ScenarioError
from tsunagu.sim.access import admit_shared

__all__ = [
    "NO_PON",
    "FixedAccess",
    "FixedAdmission",
    "PonTechnology",
    "admit_fixed",
    "pon_technologies",
    "pon_trees",
]

FloatArray = npt.NDArray[np.float64]

#: The technology name that leaves fixed access unlimited (no PON trees modelled).
NO_PON: Final = "none"


@dataclass(frozen=True)
class PonTechnology:
    """One PON technology of ``pon_technologies.csv``: its rates per tree and their source."""

    name: str
    standard: str
    downstream_bps: float
    upstream_bps: float
    source: str


@functools.cache
def pon_technologies() -> dict[str, PonTechnology]:
    """The shipped PON technologies by name (``pon_technologies.csv``, SOURCES.md)."""
    text = importlib.resources.files("tsunagu.data").joinpath("pon_technologies.csv")
    out: dict[str, PonTechnology] = {}
    for i, row in enumerate(csv.DictReader(io.StringIO(text.read_text("utf-8"))), start=2):
        try:
            down, up = float(row["downstream_bps"]), float(row["upstream_bps"])
        except (KeyError, ValueError):
            raise DataError(
                f"pon_technologies.csv line {i}: rates must be numbers in b/s"
            ) from None
        if not (down > 0.0 and up > 0.0):
            raise DataError(f"pon_technologies.csv line {i}: rates must be > 0")
        out[row["technology"]] = PonTechnology(
            row["technology"], row["standard"], down, up, row["source"]
        )
    return out


def pon_trees(subscribers: npt.ArrayLike, split: int) -> FloatArray:
    """PON trees that serve ``subscribers`` with ``split`` subscribers per tree: ⌈s / split⌉.

    >>> pon_trees([0.0, 1.0, 32.0, 33.0, 640.0], 32).tolist()
    [0.0, 1.0, 1.0, 2.0, 20.0]
    """
    if split < 1:
        raise ScenarioError(f"a PON split must be at least 1 subscriber per tree, got {split}")
    s = np.asarray(subscribers, dtype=np.float64)
    if np.any(s < 0.0):
        raise ScenarioError("subscriber counts must be >= 0")
    return np.ceil(s / split)


@dataclass(frozen=True)
class FixedAdmission:
    """One step's fixed-access admission per demand point (P,), per direction.

    ``offered_*`` is the traffic offered to the point's trees, ``admitted_*`` what they carry,
    ``utilisation_*`` the carried load over the trees' capacity (0 without trees).
    """

    offered_down_bps: FloatArray
    offered_up_bps: FloatArray
    admitted_down_bps: FloatArray
    admitted_up_bps: FloatArray
    utilisation_down: FloatArray
    utilisation_up: FloatArray
    capacity_down_bps: FloatArray
    capacity_up_bps: FloatArray

    @property
    def blocked_down_bps(self) -> FloatArray:
        return np.asarray(self.offered_down_bps - self.admitted_down_bps, dtype=np.float64)

    @property
    def blocked_up_bps(self) -> FloatArray:
        return np.asarray(self.offered_up_bps - self.admitted_up_bps, dtype=np.float64)

    @property
    def utilisation(self) -> FloatArray:
        """The busier direction's utilisation per point."""
        return np.asarray(np.maximum(self.utilisation_down, self.utilisation_up))

    def aggregate_utilisation(self) -> float:
        """Σ carried / Σ capacity over all points' trees, the busier direction (0: no trees)."""
        out = 0.0
        for load, cap in (
            (self.admitted_down_bps, self.capacity_down_bps),
            (self.admitted_up_bps, self.capacity_up_bps),
        ):
            c = float(np.sum(cap))
            if c > 0.0:
                out = max(out, float(np.sum(load)) / c)
        return out


@dataclass(frozen=True)
class FixedAccess:
    """The twin's PON trees: per demand point (P,) the trees and their capacity per direction.

    ``technology`` is ``None`` when the scenario models no PON (``fixed_access.technology:
    none``): then no fixed traffic is offered to trees and all of it enters at the office.
    """

    technology: PonTechnology | None
    split: int
    traffic_share: float
    subscribers: FloatArray
    trees: FloatArray

    @classmethod
    def build(
        cls,
        population: npt.ArrayLike,
        technology: str,
        split: int,
        subscriptions_per_person: float,
        traffic_share: float,
    ) -> FixedAccess:
        """Trees per point from its people: ⌈people · subscriptions_per_person / split⌉."""
        pop = np.asarray(population, dtype=np.float64)
        subs = pop * subscriptions_per_person
        if technology == NO_PON:
            return cls(None, split, 0.0, subs, np.zeros(pop.size))
        techs = pon_technologies()
        if technology not in techs:
            raise ScenarioError(
                f"unknown PON technology {technology!r}; known: {sorted(techs)} or {NO_PON!r}"
            )
        return cls(techs[technology], split, traffic_share, subs, pon_trees(subs, split))

    @property
    def capacity_down_bps(self) -> FloatArray:
        rate = 0.0 if self.technology is None else self.technology.downstream_bps
        return np.asarray(self.trees * rate, dtype=np.float64)

    @property
    def capacity_up_bps(self) -> FloatArray:
        rate = 0.0 if self.technology is None else self.technology.upstream_bps
        return np.asarray(self.trees * rate, dtype=np.float64)


def admit_fixed(
    access: FixedAccess,
    fixed_down_bps: FloatArray,
    fixed_up_bps: FloatArray,
    max_utilisation: float,
) -> FixedAdmission:
    """Admit each point's fixed traffic on its PON trees, each direction within
    ``max_utilisation`` × the trees' capacity (:func:`tsunagu.sim.access.admit_shared`).

    ``fixed_*_bps`` is the point's whole fixed-broadband traffic; ``traffic_share`` of it is
    offered to the trees (none without a PON technology, or at a point without trees).

    >>> fa = FixedAccess.build([3200.0], "ge-pon", 32, 1.0, 1.0)   # 100 trees of 1 Gb/s
    >>> adm = admit_fixed(fa, np.array([200e9]), np.array([10e9]), 0.9)
    >>> adm.admitted_down_bps.tolist(), adm.utilisation_down.tolist()
    ([90000000000.0], [0.9])
    """
    n = access.trees.size
    has = access.trees > 0.0
    share = np.where(has, access.traffic_share, 0.0)
    out: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    for bps, cap in (
        (fixed_down_bps, access.capacity_down_bps),
        (fixed_up_bps, access.capacity_up_bps),
    ):
        offered = np.asarray(bps, dtype=np.float64) * share
        resource = np.where(has, np.arange(n), -1).astype(np.int64)
        admit, util = admit_shared(offered, resource, cap, max_utilisation)
        out.append((offered, offered * admit, util))
    (od, ad, ud), (ou, au, uu) = out
    return FixedAdmission(
        offered_down_bps=od,
        offered_up_bps=ou,
        admitted_down_bps=ad,
        admitted_up_bps=au,
        utilisation_down=ud,
        utilisation_up=uu,
        capacity_down_bps=access.capacity_down_bps,
        capacity_up_bps=access.capacity_up_bps,
    )
