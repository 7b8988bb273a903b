"""Node and link tables and the network state built from them (SPEC §2.3).

A network state at time t is two column tables, not a graph of Python objects:

* :class:`NodeTable` — one row per node; the node id *is* the row index.
* :class:`LinkTable` — one row per link, ``src``/``dst`` are node ids (row indices).

Both are frozen dataclasses of read-only NumPy columns; every operation (``concat``,
``with_up``, ``offset``) returns a new table and never mutates its inputs. Domains contribute
rows (and their own ``extra`` columns, e.g. GSNR margin or SINR); they never reach into each
other's tables.

Static and dynamic layers
-------------------------
Most of the network does not move: fibre, cells, data centres. A :class:`StaticNetwork` holds
those layers, built once. What changes with time — satellite and HAPS nodes and their links —
is passed per step to :meth:`StaticNetwork.state_at`, which appends it to the static tables with
one ``np.concatenate`` per column and returns a :class:`NetworkState`. Node ids of the static
layer are stable across steps; dynamic nodes take the ids after them, and dynamic links use
these combined ids (so a satellite–gateway link names the static gateway by its static id).

A :class:`NetworkState` caches its CSR matrices and link look-ups per (weight, only_up,
undirected), so the path functions of :mod:`tsunagu.net.paths` can be called many times on one
state while building the graph only once.

Latency
-------
``latency_s`` of a link is its propagation delay ``length_m / (c / n_group)`` plus a fixed
equipment delay. The physics invariant ``latency_s >= length_m / (c / n_group)`` is checked for
every link whenever a table is built.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa
    import scipy.sparse as sp

__all__ = [
    "DOMAINS",
    "GROUP_INDEX",
    "MEDIA",
    "LinkLookup",
    "LinkTable",
    "NetworkState",
    "NodeTable",
    "StaticNetwork",
    "propagation_latency_s",
]

#: Transmission media of a link, in the order used for integer medium codes.
MEDIA: Final = ("fibre", "free_space", "radio", "internal")

#: Group index per medium; propagation speed is ``C_M_PER_S / GROUP_INDEX[medium]``.
#: Free space, radio and internal (back-plane, intra-site) links propagate at c.
GROUP_INDEX: Final[Mapping[str, float]] = MappingProxyType(
    {"fibre": FIBRE_GROUP_INDEX, "free_space": 1.0, "radio": 1.0, "internal": 1.0}
)

#: Domains a node or link can belong to.
DOMAINS: Final = ("optical", "ntn", "ran", "compute", "demand")

#: Absolute tolerance (s) of the check latency_s >= propagation delay: 1 ps, far below any
#: equipment delay, above the rounding of float64 sums of link latencies.
_LATENCY_TOLERANCE_S: Final = 1e-12

_GROUP_INDEX_ARRAY: Final = np.array([GROUP_INDEX[m] for m in MEDIA], dtype=np.float64)
_MEDIA_ARRAY: Final = np.array(MEDIA)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]
_ColumnKind = Literal["str", "float", "bool", "int"]


# --------------------------------------------------------------------------------------------
# Column helpers
# --------------------------------------------------------------------------------------------


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return a read-only view of ``array`` (the caller's array keeps its own flags)."""
    view = array.view()
    view.flags.writeable = False
    return view


def _column(
    value: Any, n: int, column: str, kind: _ColumnKind, table: str, what: str
) -> npt.NDArray[Any]:
    """Convert ``value`` to a read-only 1-D column of length ``n``, broadcasting scalars.

    Raises
    ------
    DataError
        Naming ``column`` when the length or dtype is wrong.
    """
    array = np.asarray(value)
    if array.ndim == 0:
        array = np.full(n, array, dtype=array.dtype)
    elif array.ndim != 1 or array.shape[0] != n:
        raise DataError(
            f"{table} column {column!r} has shape {array.shape} but the table has {n} {what}s; "
            f"pass one value per {what} or a scalar"
        )
    dtype_kind = array.dtype.kind
    if kind == "str":
        if dtype_kind == "O" and not np.any(np.equal(array, np.array(None, dtype=object))):
            array = array.astype(np.str_)  # e.g. strings from pyarrow/pandas
        elif dtype_kind == "U" or (dtype_kind == "f" and n == 0):
            array = array.astype(np.str_, copy=False)
        else:
            raise DataError(
                f"{table} column {column!r} must hold strings, got dtype {array.dtype}; "
                f"pass a list or array of str"
            )
    elif kind == "float":
        if dtype_kind not in "biuf":
            raise DataError(
                f"{table} column {column!r} must be numeric (float64), got dtype {array.dtype}"
            )
        array = array.astype(np.float64, copy=False)
    elif kind == "bool":
        if dtype_kind != "b" and not (dtype_kind == "f" and n == 0):
            raise DataError(
                f"{table} column {column!r} must be boolean, got dtype {array.dtype}; "
                f"pass True/False or a bool array (e.g. values > 0)"
            )
        array = array.astype(np.bool_, copy=False)
    else:
        if dtype_kind not in "iu" and not (dtype_kind == "f" and n == 0):
            raise DataError(
                f"{table} column {column!r} must hold integer node ids, got dtype {array.dtype}; "
                f"convert node names with NodeTable.index_of(names)"
            )
        array = array.astype(np.int64, copy=False)
    return _readonly(array)


def _extra_columns(
    extra: Mapping[str, Any] | None, n: int, reserved: tuple[str, ...], table: str, what: str
) -> Mapping[str, npt.NDArray[Any]]:
    """Validate domain columns: 1-D, length ``n`` (scalars broadcast), no clash with core names."""
    if not extra:
        return MappingProxyType({})
    out: dict[str, npt.NDArray[Any]] = {}
    for key, value in extra.items():
        if key in reserved:
            raise DataError(
                f"{table} extra column {key!r} clashes with a core column; rename it "
                f"(e.g. {key + '_' + 'domain'!r})"
            )
        array = np.asarray(value)
        if array.ndim == 0:
            array = np.full(n, array, dtype=array.dtype)
        elif array.ndim != 1 or array.shape[0] != n:
            raise DataError(
                f"{table} extra column {key!r} has shape {array.shape} but the table has {n} "
                f"{what}s; pass one value per {what} or a scalar"
            )
        out[key] = _readonly(array)
    return MappingProxyType(out)


def _fill_value(dtype: np.dtype[Any]) -> Any:
    """Missing-value marker used when an extra column is absent from one concatenated part."""
    kind = dtype.kind
    if kind in "fc":
        return np.nan
    if kind in "US":
        return ""
    if kind == "b":
        return False
    if kind == "i":
        return -1
    if kind == "u":
        return 0
    if kind in "mM":
        return np.datetime64("NaT") if kind == "M" else np.timedelta64("NaT")
    return None


def _concat_extra(
    parts: list[Mapping[str, npt.NDArray[Any]]], lengths: list[int]
) -> dict[str, npt.NDArray[Any]]:
    """Union of extra columns; a part lacking a column gets the dtype's missing marker."""
    keys: list[str] = []
    for part in parts:
        keys.extend(k for k in part if k not in keys)
    out: dict[str, npt.NDArray[Any]] = {}
    for key in keys:
        template = next(part[key] for part in parts if key in part)
        fill = _fill_value(template.dtype)
        out[key] = np.concatenate(
            [
                part[key] if key in part else np.full(n, fill, dtype=template.dtype)
                for part, n in zip(parts, lengths, strict=True)
            ]
        )
    return out


def _check_members(values: StrArray, allowed: tuple[str, ...], table: str, column: str) -> None:
    """Raise DataError naming the first value of ``column`` not in ``allowed``."""
    bad = ~np.isin(values, np.array(allowed))
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{table} column {column!r} has {str(values[first])!r} at row {first}; "
            f"use one of {', '.join(allowed)}"
        )


def _medium_code(medium: Any) -> npt.NDArray[np.intp]:
    """Integer index into MEDIA for each medium string (vectorised)."""
    medium_arr = np.asarray(medium)
    if medium_arr.dtype.kind not in "UO":
        raise DataError(f"medium must be strings from {MEDIA}, got dtype {medium_arr.dtype}")
    medium_arr = medium_arr.astype(np.str_)
    order = np.argsort(_MEDIA_ARRAY)
    sorted_media = _MEDIA_ARRAY[order]
    pos = np.clip(np.searchsorted(sorted_media, medium_arr), 0, len(MEDIA) - 1)
    found = sorted_media[pos] == medium_arr
    if not np.all(found):
        bad = str(medium_arr[~found].ravel()[0])
        close = difflib.get_close_matches(str(bad), MEDIA, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"unknown medium {bad!r}{hint}; use one of {', '.join(MEDIA)}")
    return np.asarray(order[pos], dtype=np.intp)


def propagation_latency_s(length_m: npt.ArrayLike, medium: npt.ArrayLike) -> FloatArray:
    """Propagation delay ``length_m / (c / n_group)`` for each link.

    Parameters
    ----------
    length_m : array_like of float
        Physical length of the link (fibre route length, slant range, ...), m.
    medium : str or array_like of str
        Medium of each link, one of :data:`MEDIA`; broadcasts against ``length_m``.

    Returns
    -------
    numpy.ndarray of float64
        Propagation delay, s, with the broadcast shape of the inputs.

    Raises
    ------
    DataError
        If a medium is not one of :data:`MEDIA` (the message suggests the closest).

    Examples
    --------
    >>> round(float(propagation_latency_s(100e3, "fibre")) * 1e6, 1)  # 100 km of SMF, µs
    489.7
    >>> (propagation_latency_s(299_792.458, ["free_space", "fibre"]) * 1e3).tolist()  # ms
    [1.0, 1.468]
    """
    group_index = _GROUP_INDEX_ARRAY[_medium_code(medium)]
    return np.asarray(np.asarray(length_m, dtype=np.float64) * group_index / C_M_PER_S)


# --------------------------------------------------------------------------------------------
# Node table
# --------------------------------------------------------------------------------------------

_NODE_CORE: Final = (
    "name",
    "kind",
    "domain",
    "operator",
    "lat_deg",
    "lon_deg",
    "alt_m",
    "up",
)
_NODE_KINDS: Final[Mapping[str, _ColumnKind]] = MappingProxyType(
    {
        "name": "str",
        "kind": "str",
        "domain": "str",
        "operator": "str",
        "lat_deg": "float",
        "lon_deg": "float",
        "alt_m": "float",
        "up": "bool",
    }
)


@dataclass(frozen=True, eq=False)
class NodeTable:
    """Nodes of the network as read-only columns; the node id is the row index.

    Build one with :meth:`NodeTable.build`, which broadcasts scalars; the constructor validates
    every column (types, lengths, unique names, domains, coordinate ranges).

    Attributes
    ----------
    name : numpy.ndarray of str
        Unique node name.
    kind : numpy.ndarray of str
        Node kind (roadm, amplifier_site, gateway, satellite, haps, gnb, dc, edge, demand, ...).
    domain : numpy.ndarray of str
        One of :data:`DOMAINS`.
    operator : numpy.ndarray of str
        Operating company, ``''`` when none.
    lat_deg, lon_deg : numpy.ndarray of float64
        Geodetic latitude in [-90, 90] and longitude in [-180, 180], degrees.
    alt_m : numpy.ndarray of float64
        Altitude above the WGS84 ellipsoid, m.
    up : numpy.ndarray of bool
        False for failed or switched-off nodes; links touching them are not routable.
    extra : Mapping[str, numpy.ndarray]
        Domain columns (e.g. ECEF ``x_m``, ``y_m``, ``z_m`` for moving nodes), one value per node.
    """

    name: StrArray
    kind: StrArray
    domain: StrArray
    operator: StrArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_m: FloatArray
    up: BoolArray
    extra: Mapping[str, npt.NDArray[Any]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        """Convert and validate every column; raise DataError naming the offending column."""
        name = np.asarray(self.name)
        if name.ndim != 1:
            raise DataError(f"NodeTable column 'name' must be 1-D, got shape {name.shape}")
        n = name.shape[0]
        for column in _NODE_CORE:
            value = _column(
                getattr(self, column), n, column, _NODE_KINDS[column], "NodeTable", "node"
            )
            object.__setattr__(self, column, value)
        object.__setattr__(
            self, "extra", _extra_columns(self.extra, n, _NODE_CORE, "NodeTable", "node")
        )
        _check_members(self.domain, DOMAINS, "NodeTable", "domain")
        bad_lat = ~((self.lat_deg >= -90.0) & (self.lat_deg <= 90.0))
        if np.any(bad_lat):
            i = int(np.flatnonzero(bad_lat)[0])
            raise DataError(
                f"NodeTable column 'lat_deg' is {self.lat_deg[i]} for node {str(self.name[i])!r}; "
                f"pass a latitude in [-90, 90] degrees"
            )
        bad_lon = ~((self.lon_deg >= -180.0) & (self.lon_deg <= 180.0))
        if np.any(bad_lon):
            i = int(np.flatnonzero(bad_lon)[0])
            raise DataError(
                f"NodeTable column 'lon_deg' is {self.lon_deg[i]} for node {str(self.name[i])!r}; "
                f"pass a longitude in [-180, 180] degrees (wrap with (lon + 180) % 360 - 180)"
            )
        bad_alt = ~np.isfinite(self.alt_m)
        if np.any(bad_alt):
            i = int(np.flatnonzero(bad_alt)[0])
            raise DataError(
                f"NodeTable column 'alt_m' is {self.alt_m[i]} for node {str(self.name[i])!r}; "
                f"pass a finite altitude in metres"
            )
        sorted_names = self.name[self._name_order]
        dup = sorted_names[1:] == sorted_names[:-1]
        if np.any(dup):
            names = np.unique(sorted_names[1:][dup])
            shown = ", ".join(repr(str(s)) for s in names[:10])
            more = f" and {names.size - 10} more" if names.size > 10 else ""
            raise DataError(
                f"NodeTable column 'name' has duplicates: {shown}{more}; node names must be "
                f"unique (prefix them with their layer or operator)"
            )

    @classmethod
    def build(
        cls,
        *,
        name: npt.ArrayLike,
        kind: npt.ArrayLike,
        domain: npt.ArrayLike,
        lat_deg: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        alt_m: npt.ArrayLike = 0.0,
        operator: npt.ArrayLike = "",
        up: npt.ArrayLike = True,
        extra: Mapping[str, npt.ArrayLike] | None = None,
    ) -> NodeTable:
        """Build a node table, broadcasting scalar columns to the length of ``name``.

        Parameters
        ----------
        name : array_like of str
            Unique node names; their count sets the table length.
        kind, domain, operator : str or array_like of str
            See the class attributes; ``domain`` must be one of :data:`DOMAINS`.
        lat_deg, lon_deg, alt_m : float or array_like of float
            Geodetic position, degrees and metres.
        up : bool or array_like of bool
            Whether each node is in service.
        extra : mapping of str to array_like, optional
            Domain columns, one value per node (scalars broadcast).

        Returns
        -------
        NodeTable

        Raises
        ------
        DataError
            Naming the offending column (wrong length or dtype, duplicate names, unknown domain,
            coordinates out of range).

        Examples
        --------
        >>> nodes = NodeTable.build(name=["tokyo", "osaka"], kind="roadm", domain="optical",
        ...                         lat_deg=[35.68, 34.69], lon_deg=[139.77, 135.50])
        >>> len(nodes), nodes.kind.tolist()
        (2, ['roadm', 'roadm'])
        """
        name_arr = np.asarray(name)
        if name_arr.ndim != 1:
            raise DataError(
                f"NodeTable column 'name' must be a 1-D list of names, got shape {name_arr.shape}"
            )
        return cls(
            name=name_arr,
            kind=np.asarray(kind),
            domain=np.asarray(domain),
            operator=np.asarray(operator),
            lat_deg=np.asarray(lat_deg),
            lon_deg=np.asarray(lon_deg),
            alt_m=np.asarray(alt_m),
            up=np.asarray(up),
            extra={k: np.asarray(v) for k, v in (extra or {}).items()},
        )

    @classmethod
    def empty(cls) -> NodeTable:
        """A table with no nodes."""
        return cls.build(
            name=np.array([], dtype=np.str_), kind="", domain="optical", lat_deg=0.0, lon_deg=0.0
        )

    def __len__(self) -> int:
        """Number of nodes."""
        return int(self.name.shape[0])

    @cached_property
    def _name_order(self) -> npt.NDArray[np.intp]:
        """Permutation that sorts ``name`` (for vectorised look-ups)."""
        return np.argsort(self.name, kind="stable")

    @classmethod
    def concat(cls, *tables: NodeTable) -> NodeTable:
        """Stack tables row-wise; ids of the k-th table shift by the lengths before it.

        Extra columns are united; rows of a table lacking one get a missing marker (NaN for
        floats, ``''`` for strings, False for bools, -1 for signed integers).

        Raises
        ------
        DataError
            If names are not unique across the tables (the message lists the duplicates).
        """
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        cols = {c: np.concatenate([getattr(t, c) for t in tables]) for c in _NODE_CORE}
        extra = _concat_extra([t.extra for t in tables], [len(t) for t in tables])
        return cls(**cols, extra=extra)

    def index_of(self, names: npt.ArrayLike) -> IntArray:
        """Node ids of ``names`` (vectorised; keeps the shape of ``names``).

        Raises
        ------
        DataError
            Listing the unknown names with the closest known names.

        Examples
        --------
        >>> nodes = NodeTable.build(name=["a", "b", "c"], kind="dc", domain="compute",
        ...                         lat_deg=35.0, lon_deg=139.0)
        >>> nodes.index_of(["c", "a"]).tolist()
        [2, 0]
        """
        query = np.asarray(names).astype(np.str_)
        order = self._name_order
        sorted_names = self.name[order]
        if sorted_names.size == 0:
            pos = np.zeros(query.shape, dtype=np.intp)
            found = np.zeros(query.shape, dtype=bool)
        else:
            pos = np.clip(np.searchsorted(sorted_names, query), 0, sorted_names.size - 1)
            found = sorted_names[pos] == query
        if not np.all(found):
            unknown = np.unique(query[~found])
            known = self.name.tolist()
            hints = []
            for bad in unknown[:10].tolist():
                close = difflib.get_close_matches(bad, known, n=3)
                suggestion = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
                hints.append(f"{bad!r}{suggestion}")
            more = f" and {unknown.size - 10} more" if unknown.size > 10 else ""
            raise DataError(
                f"unknown node name(s): {'; '.join(hints)}{more}; pass names present in the "
                f"NodeTable 'name' column"
            )
        return np.asarray(order[pos], dtype=np.int64)

    def with_up(self, mask: npt.ArrayLike) -> NodeTable:
        """A new table whose ``up`` column is ``mask`` (bool, one per node or a scalar)."""
        return dataclasses.replace(
            self, up=_column(mask, len(self), "up", "bool", "NodeTable", "node")
        )

    def to_arrow(self) -> pa.Table:
        """The table as a :class:`pyarrow.Table` with an ``id`` column (the row index) first."""
        import pyarrow as pa

        columns: dict[str, Any] = {"id": np.arange(len(self), dtype=np.int64)}
        columns.update({c: np.ascontiguousarray(getattr(self, c)) for c in _NODE_CORE})
        columns.update({k: np.ascontiguousarray(v) for k, v in self.extra.items()})
        return pa.table(columns)


# --------------------------------------------------------------------------------------------
# Link table
# --------------------------------------------------------------------------------------------

_LINK_CORE: Final = (
    "src",
    "dst",
    "domain",
    "medium",
    "length_m",
    "latency_s",
    "capacity_bps",
    "power_w",
    "availability",
    "up",
    "operator",
)
_LINK_KINDS: Final[Mapping[str, _ColumnKind]] = MappingProxyType(
    {
        "src": "int",
        "dst": "int",
        "domain": "str",
        "medium": "str",
        "length_m": "float",
        "latency_s": "float",
        "capacity_bps": "float",
        "power_w": "float",
        "availability": "float",
        "up": "bool",
        "operator": "str",
    }
)


@dataclass(frozen=True, eq=False)
class LinkTable:
    """Links of the network as read-only columns; the link id is the row index.

    Links are stored once per pair of endpoints (``src`` → ``dst``); whether they are used in
    one or both directions is chosen when a graph is built (``undirected=True`` by default).
    Build one with :meth:`LinkTable.build`; the constructor validates every column.

    Attributes
    ----------
    src, dst : numpy.ndarray of int64
        End node ids (row indices of the :class:`NodeTable`).
    domain : numpy.ndarray of str
        One of :data:`DOMAINS`.
    medium : numpy.ndarray of str
        One of :data:`MEDIA`.
    length_m : numpy.ndarray of float64
        Physical length (route length for fibre, slant range for radio/optical space links), m.
    latency_s : numpy.ndarray of float64
        One-way latency: propagation delay plus fixed equipment delay, s.
    capacity_bps : numpy.ndarray of float64
        Capacity, bit/s (``inf`` for unconstrained internal links).
    power_w : numpy.ndarray of float64
        Electrical power drawn by the link's equipment, W.
    availability : numpy.ndarray of float64
        Long-run availability in [0, 1].
    up : numpy.ndarray of bool
        False for failed or switched-off links.
    operator : numpy.ndarray of str
        Operating company, ``''`` when none.
    extra : Mapping[str, numpy.ndarray]
        Domain columns (e.g. ``gsnr_margin_db``, ``sinr_db``), one value per link.
    """

    src: IntArray
    dst: IntArray
    domain: StrArray
    medium: StrArray
    length_m: FloatArray
    latency_s: FloatArray
    capacity_bps: FloatArray
    power_w: FloatArray
    availability: FloatArray
    up: BoolArray
    operator: StrArray
    extra: Mapping[str, npt.NDArray[Any]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        """Convert and validate every column; raise DataError naming the offending column."""
        src = np.asarray(self.src)
        if src.ndim != 1:
            raise DataError(f"LinkTable column 'src' must be 1-D, got shape {src.shape}")
        n = src.shape[0]
        for column in _LINK_CORE:
            value = _column(
                getattr(self, column), n, column, _LINK_KINDS[column], "LinkTable", "link"
            )
            object.__setattr__(self, column, value)
        object.__setattr__(
            self, "extra", _extra_columns(self.extra, n, _LINK_CORE, "LinkTable", "link")
        )
        _check_members(self.domain, DOMAINS, "LinkTable", "domain")
        _check_members(self.medium, MEDIA, "LinkTable", "medium")
        self._check_rows((self.src >= 0) & (self.dst >= 0), "src/dst", "node ids must be >= 0")
        self._check_rows(
            self.src != self.dst, "src/dst", "a link must join two different nodes; drop self-loops"
        )
        self._check_rows(
            np.isfinite(self.length_m) & (self.length_m >= 0.0),
            "length_m",
            "pass a finite length >= 0 m",
        )
        self._check_rows(
            np.isfinite(self.latency_s)
            & (self.latency_s >= self.propagation_s - _LATENCY_TOLERANCE_S),
            "latency_s",
            "latency must be finite and at least the propagation delay length_m / (c / n_group)"
            " of its medium; omit latency_s to have it computed",
        )
        self._check_rows(
            ~np.isnan(self.capacity_bps) & (self.capacity_bps >= 0.0),
            "capacity_bps",
            "pass a capacity >= 0 bit/s (inf for unconstrained)",
        )
        self._check_rows(
            np.isfinite(self.power_w) & (self.power_w >= 0.0),
            "power_w",
            "pass a finite power >= 0 W",
        )
        self._check_rows(
            (self.availability >= 0.0) & (self.availability <= 1.0),
            "availability",
            "pass an availability in [0, 1] (a fraction, not a percentage)",
        )

    def _check_rows(self, ok: BoolArray, column: str, fix: str) -> None:
        """Raise DataError naming the first link where ``ok`` is False."""
        if not np.all(ok):
            i = int(np.flatnonzero(~ok)[0])
            raise DataError(
                f"LinkTable column {column!r} is invalid for link {i} "
                f"({int(self.src[i])} -> {int(self.dst[i])}, {self.medium[i]}, "
                f"length_m={self.length_m[i]}, latency_s={self.latency_s[i]}, "
                f"capacity_bps={self.capacity_bps[i]}, power_w={self.power_w[i]}, "
                f"availability={self.availability[i]}): {fix}"
            )

    @classmethod
    def build(
        cls,
        *,
        src: npt.ArrayLike,
        dst: npt.ArrayLike,
        domain: npt.ArrayLike,
        medium: npt.ArrayLike,
        length_m: npt.ArrayLike,
        latency_s: npt.ArrayLike | None = None,
        equipment_delay_s: npt.ArrayLike = 0.0,
        capacity_bps: npt.ArrayLike = np.inf,
        power_w: npt.ArrayLike = 0.0,
        availability: npt.ArrayLike = 1.0,
        up: npt.ArrayLike = True,
        operator: npt.ArrayLike = "",
        extra: Mapping[str, npt.ArrayLike] | None = None,
        n_nodes: int | None = None,
        group_index: npt.ArrayLike | None = None,
    ) -> LinkTable:
        """Build a link table, broadcasting scalar columns to the length of ``src``.

        Parameters
        ----------
        src, dst : array_like of int
            End node ids; their count sets the table length.
        domain, medium, operator : str or array_like of str
            See the class attributes.
        length_m : float or array_like of float
            Physical length, m.
        latency_s : float or array_like of float, optional
            One-way latency, s. When omitted it is
            ``propagation_latency_s(length_m, medium) + equipment_delay_s``.
        equipment_delay_s : float or array_like of float, default 0
            Fixed delay of transponders, switches, baseband, ..., s; only used (and only
            allowed to be non-zero) when ``latency_s`` is omitted.
        capacity_bps, power_w, availability : float or array_like of float
            See the class attributes. Capacity defaults to ``inf``.
        up : bool or array_like of bool
            Whether each link is in service.
        extra : mapping of str to array_like, optional
            Domain columns, one value per link.
        n_nodes : int, optional
            Number of nodes of the node table the ids refer to; checked when given.
        group_index : float or array_like of float, optional
            Group index of each link (e.g. an operator's fibre at 1.4675), stored as the extra
            column ``group_index``; NaN or omitted means the medium's :data:`GROUP_INDEX`.
            It sets the computed ``latency_s`` and :attr:`propagation_s`.

        Returns
        -------
        LinkTable

        Raises
        ------
        DataError
            Naming the offending column and the first offending link (latency below the
            propagation delay, negative length, unknown medium, id out of range, ...).

        Examples
        --------
        >>> links = LinkTable.build(src=[0, 1], dst=[1, 2], domain="optical", medium="fibre",
        ...                         length_m=[100e3, 50e3], equipment_delay_s=10e-6)
        >>> (links.latency_s * 1e6).round(2).tolist()
        [499.67, 254.84]
        """
        src_arr = np.asarray(src)
        if src_arr.ndim != 1:
            raise DataError(f"LinkTable column 'src' must be 1-D, got shape {src_arr.shape}")
        n = src_arr.shape[0]
        length = _column(length_m, n, "length_m", "float", "LinkTable", "link")
        medium_arr = _column(medium, n, "medium", "str", "LinkTable", "link")
        _check_members(medium_arr, MEDIA, "LinkTable", "medium")
        extra_cols = {k: np.asarray(v) for k, v in (extra or {}).items()}
        n_g = _GROUP_INDEX_ARRAY[_medium_code(medium_arr)]
        if group_index is not None:
            given = _column(group_index, n, "group_index", "float", "LinkTable", "link")
            bad = ~(np.isnan(given) | (np.isfinite(given) & (given >= 1.0)))
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"LinkTable argument 'group_index' is {given[i]} for link {i}; pass a "
                    f"finite group index >= 1 (1.0 in vacuum, about 1.468 in SMF) or NaN for "
                    f"the medium's default"
                )
            extra_cols["group_index"] = given
            n_g = np.where(np.isnan(given), n_g, given)
        if latency_s is None:
            equipment = _column(
                equipment_delay_s, n, "equipment_delay_s", "float", "LinkTable", "link"
            )
            bad = ~(np.isfinite(equipment) & (equipment >= 0.0))
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"LinkTable argument 'equipment_delay_s' is {equipment[i]} for link {i}; "
                    f"pass a finite delay >= 0 s"
                )
            latency: Any = length * n_g / C_M_PER_S + equipment
        else:
            if np.any(np.asarray(equipment_delay_s) != 0.0):
                raise DataError(
                    "LinkTable.build got both latency_s and equipment_delay_s; pass latency_s "
                    "(total) or equipment_delay_s (added to the propagation delay), not both"
                )
            latency = np.asarray(latency_s)
        table = cls(
            src=src_arr,
            dst=np.asarray(dst),
            domain=np.asarray(domain),
            medium=medium_arr,
            length_m=length,
            latency_s=latency,
            capacity_bps=np.asarray(capacity_bps),
            power_w=np.asarray(power_w),
            availability=np.asarray(availability),
            up=np.asarray(up),
            operator=np.asarray(operator),
            extra=extra_cols,
        )
        if n_nodes is not None:
            table.check_node_ids(n_nodes)
        return table

    @classmethod
    def empty(cls) -> LinkTable:
        """A table with no links."""
        return cls.build(
            src=np.array([], dtype=np.int64),
            dst=np.array([], dtype=np.int64),
            domain="optical",
            medium="fibre",
            length_m=0.0,
        )

    def __len__(self) -> int:
        """Number of links."""
        return int(self.src.shape[0])

    def check_node_ids(self, n_nodes: int) -> None:
        """Raise DataError naming the first link with ``src`` or ``dst`` >= ``n_nodes``."""
        bad = (self.src >= n_nodes) | (self.dst >= n_nodes)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"LinkTable link {i} joins nodes {int(self.src[i])} -> {int(self.dst[i])} but "
                f"the node table has only {n_nodes} nodes (ids 0..{n_nodes - 1}); offset the "
                f"links of a layer with LinkTable.offset(n) when stacking node tables"
            )

    @cached_property
    def medium_code(self) -> npt.NDArray[np.intp]:
        """Index of each link's medium in :data:`MEDIA`."""
        return _readonly(_medium_code(self.medium))

    @cached_property
    def propagation_s(self) -> FloatArray:
        """Propagation part of ``latency_s``: ``length_m / (c / n_group)``, s, with the
        link's own ``group_index`` extra column where it has one (else the medium's)."""
        group_index = _GROUP_INDEX_ARRAY[self.medium_code]
        own = self.extra.get("group_index")
        if own is not None:
            own = np.asarray(own, dtype=np.float64)
            group_index = np.where(np.isnan(own), group_index, own)
        return _readonly(self.length_m * group_index / C_M_PER_S)

    @classmethod
    def concat(cls, *tables: LinkTable) -> LinkTable:
        """Stack tables row-wise (node ids are kept; see :meth:`offset`).

        Extra columns are united as in :meth:`NodeTable.concat`.
        """
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        cols = {c: np.concatenate([getattr(t, c) for t in tables]) for c in _LINK_CORE}
        extra = _concat_extra([t.extra for t in tables], [len(t) for t in tables])
        return cls(**cols, extra=extra)

    def offset(self, n: int) -> LinkTable:
        """A new table with ``src`` and ``dst`` shifted by ``n`` (for stacked node tables)."""
        return dataclasses.replace(self, src=self.src + np.int64(n), dst=self.dst + np.int64(n))

    def with_up(self, mask: npt.ArrayLike) -> LinkTable:
        """A new table whose ``up`` column is ``mask`` (bool, one per link or a scalar)."""
        return dataclasses.replace(
            self, up=_column(mask, len(self), "up", "bool", "LinkTable", "link")
        )

    def to_arrow(self, node_names: npt.ArrayLike | None = None) -> pa.Table:
        """The table as a :class:`pyarrow.Table` with an ``id`` column first.

        Parameters
        ----------
        node_names : array_like of str, optional
            Names indexed by node id (``NodeTable.name``); adds ``src_name`` and ``dst_name``.
        """
        import pyarrow as pa

        columns: dict[str, Any] = {"id": np.arange(len(self), dtype=np.int64)}
        columns.update({c: np.ascontiguousarray(getattr(self, c)) for c in _LINK_CORE})
        if node_names is not None:
            names = np.asarray(node_names).astype(np.str_)
            if len(self) and int(max(self.src.max(), self.dst.max())) >= names.shape[0]:
                raise DataError(
                    f"node_names has {names.shape[0]} entries but links refer to node "
                    f"{int(max(self.src.max(), self.dst.max()))}; pass NodeTable.name of the "
                    f"state these links belong to"
                )
            columns["src_name"] = names[self.src]
            columns["dst_name"] = names[self.dst]
        columns.update({k: np.ascontiguousarray(v) for k, v in self.extra.items()})
        return pa.table(columns)


# --------------------------------------------------------------------------------------------
# Link look-up and network state
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LinkLookup(Mapping[tuple[int, int], int]):
    """Map a node pair ``(u, v)`` to the id of its minimum-weight usable link.

    Stored as sorted int64 pair keys ``u * n_nodes + v`` (with ``u < v`` when undirected), so
    :meth:`find` answers many pairs with one ``np.searchsorted``. It is a read-only
    :class:`~collections.abc.Mapping` too: ``lookup[(u, v)]`` gives one link id.

    Attributes
    ----------
    n_nodes : int
        Number of nodes of the state.
    undirected : bool
        Whether ``(u, v)`` and ``(v, u)`` name the same link.
    pair_keys : numpy.ndarray of int64
        Sorted pair keys.
    link_ids : numpy.ndarray of int64
        Link id for each key.
    """

    n_nodes: int
    undirected: bool
    pair_keys: IntArray
    link_ids: IntArray

    def _key(self, u: npt.ArrayLike, v: npt.ArrayLike) -> IntArray:
        u_arr = np.asarray(u, dtype=np.int64)
        v_arr = np.asarray(v, dtype=np.int64)
        if self.undirected:
            u_arr, v_arr = np.minimum(u_arr, v_arr), np.maximum(u_arr, v_arr)
        return np.asarray(u_arr * np.int64(self.n_nodes) + v_arr, dtype=np.int64)

    def find(self, u: npt.ArrayLike, v: npt.ArrayLike) -> IntArray:
        """Link ids for the pairs ``(u[i], v[i])`` (vectorised), -1 where no usable link."""
        key = self._key(u, v)
        if self.pair_keys.size == 0:
            return np.full(key.shape, -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.pair_keys, key), 0, self.pair_keys.size - 1)
        return np.where(self.pair_keys[pos] == key, self.link_ids[pos], np.int64(-1))

    def __getitem__(self, pair: tuple[int, int]) -> int:
        """Link id of the minimum-weight usable link between ``pair[0]`` and ``pair[1]``."""
        link = int(self.find(pair[0], pair[1]))
        if link < 0:
            raise KeyError(pair)
        return link

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Node pairs with a usable link, in key order."""
        u, v = np.divmod(self.pair_keys, np.int64(self.n_nodes))
        return iter(zip(u.tolist(), v.tolist(), strict=True))

    def __len__(self) -> int:
        """Number of node pairs joined by at least one usable link."""
        return int(self.pair_keys.size)


@dataclass(frozen=True, eq=False)
class NetworkState:
    """The network at one instant: a node table, a link table and the time.

    Graph views are cached per state: :meth:`csr` and :meth:`link_lookup` build their result
    on first use for each (weight, only_up, undirected) and return the cached one afterwards.
    States are immutable; use :meth:`with_up` (or :func:`dataclasses.replace`) for a changed
    copy, which starts with an empty cache.

    Attributes
    ----------
    nodes : NodeTable
    links : LinkTable
        Node ids in ``src``/``dst`` refer to rows of ``nodes``.
    time_s : float
        Simulation time of the state, s.
    """

    nodes: NodeTable
    links: LinkTable
    time_s: float = 0.0
    _cache: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Check that every link refers to an existing node."""
        if not isinstance(self.nodes, NodeTable) or not isinstance(self.links, LinkTable):
            raise DataError(
                "NetworkState takes a NodeTable and a LinkTable; build them with "
                "NodeTable.build(...) and LinkTable.build(...)"
            )
        self.links.check_node_ids(len(self.nodes))

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def link_weight(self, weight: str | npt.ArrayLike = "latency_s") -> FloatArray:
        """Per-link weight: a LinkTable column name (core or extra) or an array, one per link."""
        if isinstance(weight, str):
            if weight in _LINK_CORE:
                values = np.asarray(getattr(self.links, weight))
            elif weight in self.links.extra:
                values = np.asarray(self.links.extra[weight])
            else:
                numeric = [c for c in _LINK_CORE if _LINK_KINDS[c] == "float"]
                close = difflib.get_close_matches(weight, [*numeric, *self.links.extra], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DataError(
                    f"unknown link weight column {weight!r}{hint}; pass one of "
                    f"{', '.join(numeric + list(self.links.extra))} or an array with one "
                    f"weight per link"
                )
            if values.dtype.kind not in "iuf":
                raise DataError(f"link column {weight!r} is not numeric; pick a numeric weight")
            return np.asarray(values, dtype=np.float64)
        values = np.asarray(weight, dtype=np.float64)
        if values.shape != (len(self.links),):
            raise DataError(
                f"weight array has shape {values.shape}; pass one weight per link "
                f"({len(self.links)},) or a LinkTable column name"
            )
        return values

    def usable(self, only_up: bool = True) -> BoolArray:
        """Links that may carry traffic: link up and both end nodes up (all when not only_up)."""
        if not only_up:
            return np.ones(len(self.links), dtype=bool)
        up = self.nodes.up
        return np.asarray(self.links.up & up[self.links.src] & up[self.links.dst])

    def _cached_graph(self, weight: str, only_up: bool, undirected: bool) -> tuple[Any, LinkLookup]:
        key = (weight, only_up, undirected)
        if key not in self._cache:
            from tsunagu.net.graph import _build_graph

            self._cache[key] = _build_graph(
                self.n_nodes,
                self.links.src,
                self.links.dst,
                self.link_weight(weight),
                self.usable(only_up),
                undirected,
            )
        cached: tuple[Any, LinkLookup] = self._cache[key]
        return cached

    def csr(
        self, weight: str = "latency_s", only_up: bool = True, undirected: bool = True
    ) -> sp.csr_array:
        """Adjacency matrix with the minimum ``weight`` among parallel usable links (cached).

        Zero weights are stored as explicit entries, which ``scipy.sparse.csgraph`` treats as
        edges; do not run arithmetic on the matrix (it drops explicit zeros). See
        :func:`tsunagu.net.graph.to_csr`.
        """
        return self._cached_graph(weight, only_up, undirected)[0]

    def link_lookup(
        self, weight: str = "latency_s", only_up: bool = True, undirected: bool = True
    ) -> LinkLookup:
        """Pair → id of the minimum-``weight`` usable link, consistent with :meth:`csr` (cached)."""
        return self._cached_graph(weight, only_up, undirected)[1]

    def with_up(
        self, node_up: npt.ArrayLike | None = None, link_up: npt.ArrayLike | None = None
    ) -> NetworkState:
        """A new state with replaced ``up`` columns (e.g. after failures); caches start empty."""
        nodes = self.nodes if node_up is None else self.nodes.with_up(node_up)
        links = self.links if link_up is None else self.links.with_up(link_up)
        return NetworkState(nodes=nodes, links=links, time_s=self.time_s)


@dataclass(frozen=True, eq=False)
class StaticNetwork:
    """The layers that do not change with time (fibre, cells, compute), built once.

    Call :meth:`state_at` each step with the time-varying nodes and links (satellites, HAPS and
    their links) to get a :class:`NetworkState`. Static node ids ``0 .. n_nodes - 1`` stay the
    same at every step; dynamic nodes take ids ``n_nodes ..`` and dynamic links use these
    combined ids.

    Attributes
    ----------
    nodes : NodeTable
    links : LinkTable
    """

    nodes: NodeTable
    links: LinkTable

    def __post_init__(self) -> None:
        """Check that every static link refers to a static node."""
        self.links.check_node_ids(len(self.nodes))

    @property
    def n_nodes(self) -> int:
        """Number of static nodes (the first dynamic node id)."""
        return len(self.nodes)

    @classmethod
    def from_layers(
        cls, *layers: tuple[NodeTable, LinkTable], cross_links: LinkTable | None = None
    ) -> StaticNetwork:
        """Stack layers whose links use layer-local node ids, then add cross-layer links.

        Parameters
        ----------
        *layers : (NodeTable, LinkTable)
            Each layer's links refer to that layer's rows (ids from 0); they are offset here.
        cross_links : LinkTable, optional
            Links between layers, in the stacked ids (find them with ``nodes.index_of``).

        Returns
        -------
        StaticNetwork
        """
        offsets = np.cumsum([0, *(len(layer_nodes) for layer_nodes, _ in layers)])
        for layer_nodes, layer_links in layers:
            layer_links.check_node_ids(len(layer_nodes))
        nodes = NodeTable.concat(*(layer_nodes for layer_nodes, _ in layers))
        parts = [lk.offset(int(base)) for (_, lk), base in zip(layers, offsets[:-1], strict=False)]
        if cross_links is not None:
            parts.append(cross_links)
        return cls(nodes=nodes, links=LinkTable.concat(*parts))

    def state_at(
        self,
        time_s: float,
        dynamic_nodes: NodeTable | None = None,
        dynamic_links: LinkTable | None = None,
    ) -> NetworkState:
        """The network state at ``time_s`` with this step's dynamic nodes and links appended.

        Parameters
        ----------
        time_s : float
            Simulation time, s.
        dynamic_nodes : NodeTable, optional
            Time-varying nodes; they get ids ``self.n_nodes ..``.
        dynamic_links : LinkTable, optional
            Time-varying links in combined ids (static ids, then dynamic ones).

        Returns
        -------
        NetworkState
            Static columns are shared (not copied) when nothing dynamic is given; otherwise each
            column is built with one ``np.concatenate``.
        """
        nodes = self.nodes if dynamic_nodes is None else NodeTable.concat(self.nodes, dynamic_nodes)
        links = self.links if dynamic_links is None else LinkTable.concat(self.links, dynamic_links)
        return NetworkState(nodes=nodes, links=links, time_s=float(time_s))
