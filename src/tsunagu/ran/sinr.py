"""Downlink link budget, serving-cell association and SINR, vectorised over users × cells.

The one entry point is :func:`downlink_sinr`: user positions (x, y in metres on a local plane,
height) and one :class:`CellLayer` (all cells of one carrier: positions, heights, azimuths,
tilts, transmit powers, antenna pattern and TR 38.901 environment) give, per user, the serving
cell (strongest received power, handover margin 0 dB), its received power and coupling gain,
the geometry (SIR) and the SINR with thermal noise. Every other cell of the layer interferes in
proportion to its load (full buffer by default); cells switched off neither serve nor
interfere.

Links are evaluated either densely (every user × every cell, with optional wrap-around images as
in the TR 38.901 §7.8 calibration) or for the ``k`` nearest cells of each user found with
:class:`scipy.spatial.cKDTree` (national scale), in chunks of users so memory stays bounded.

Randomness (LOS state, shadow fading, UMa effective environment height) is drawn from a
counter-based generator keyed by ``(seed, user index, site index)``: a link's draw does not
depend on ``k``, on the chunk size or on which other cells are evaluated, and the three sectors
of a site share their LOS state and shadow fading (TR 38.901 §7.5: large-scale parameters are
per BS–UT link, i.e. per site). The streams of a link key are fixed: 1 draws the LOS state
(LOS where the uniform is below P_LOS), 2 and 3 the UMa effective environment height (state,
then value), 4 the standard normal of the shadow fading (added to the path loss, times σ).
With ``seed=None`` the deterministic LOS-probability-weighted
path loss (:func:`tsunagu.ran.pathloss.expected_pathloss_db` convention) is used, without
shadow fading.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran import antenna
from tsunagu.ran import pathloss as pl
from tsunagu.ran.rate import thermal_noise_dbm

__all__ = [
    "BeyondRange",
    "CellLayer",
    "Environment",
    "SinrResult",
    "cell_loads",
    "downlink_sinr",
    "hashed_normal",
    "hashed_uniform",
    "link_geometry",
    "nearest_cells",
]

Float = NDArray[np.float64]
Int = NDArray[np.int64]

#: Propagation environment of a layer: a TR 38.901 scenario, or free space (TR 38.811
#: eq. 6.6-2) for HIBS cells on HAPS.
Environment = Literal["uma", "umi", "rma", "inh", "fspl"]
#: What to do with links beyond a path-loss model's distance range: raise, or drop the link
#: (its cell neither serves nor interferes at that user).
BeyondRange = Literal["raise", "drop"]

_MAX_D2D_M: Final[dict[str, float]] = {
    "uma": 5000.0,
    "umi": 5000.0,
    "rma": 5000.0,  # RMa NLOS is defined to 5 km (LOS to 10 km); a random state needs both
    "inh": 150.0,
    "fspl": np.inf,
}

_MASK64: Final = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class CellLayer:
    """All cells (sectors or beams) of one carrier, as columns of equal length ``C``.

    Parameters
    ----------
    x_m, y_m : array_like
        Cell antenna positions on the local plane (m).
    height_m : array_like
        Antenna heights above ground (m); HIBS cells sit at ~20,000 m.
    azimuth_deg : array_like
        Boresight azimuth (sector pattern) or beam-axis azimuth (beam pattern), degrees
        counter-clockwise from the x-axis.
    tilt_deg : array_like
        Zenith angle of the beam peak (degrees): 102 is 12° below the horizon (TR 38.901
        Table 7.8-1); 180 points a HIBS beam straight down.
    tx_power_dbm : array_like
        Total transmit power of each cell on this carrier (dBm).
    site : array_like of int
        Site index of each cell; cells of one site share LOS state and shadow fading.
    freq_ghz, bandwidth_hz : float
        Carrier centre frequency and channel bandwidth.
    environment : Environment
        Path-loss model of the layer.
    pattern : {"sector", "beam"}
        ``"sector"``: TR 38.901 element × vertical array (:func:`antenna.sector_gain_dbi`);
        ``"beam"``: circular beam (:func:`antenna.beam_gain_dbi`) of ``beam_hpbw_deg``.
    n_vertical : int
        Elements in the vertical column of the sector antenna (Table 7.8-1: 10).
    element_gain_dbi : float
        Element (sector) or beam (beam pattern) maximum gain.
    beam_hpbw_deg : float
        3 dB beamwidth of a beam pattern.
    layers : int
        MIMO layers per user (used by rate models, not by SINR).
    band : str
        Band name, e.g. ``"n78"``.
    """

    x_m: Float
    y_m: Float
    height_m: Float
    azimuth_deg: Float
    tilt_deg: Float
    tx_power_dbm: Float
    site: Int
    freq_ghz: float
    bandwidth_hz: float
    environment: Environment
    pattern: Literal["sector", "beam"] = "sector"
    n_vertical: int = 10
    element_gain_dbi: float | Float = antenna.ELEMENT_G_MAX_DBI
    beam_hpbw_deg: float | Float = antenna.ELEMENT_HPBW_DEG
    layers: int = 4
    band: str = ""
    _gas_db_per_km: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        cols = ("x_m", "y_m", "height_m", "azimuth_deg", "tilt_deg", "tx_power_dbm")
        for name in cols:
            arr = np.atleast_1d(np.asarray(getattr(self, name), dtype=np.float64))
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "site", np.atleast_1d(np.asarray(self.site, dtype=np.int64)))
        n = self.x_m.shape
        for name in ("element_gain_dbi", "beam_hpbw_deg"):
            v = np.asarray(getattr(self, name), dtype=np.float64)
            if v.ndim == 0:
                object.__setattr__(self, name, float(v))
            elif v.shape != n:
                raise ScenarioError(
                    f"CellLayer: {name} must be one number or one per cell; got shape {v.shape}."
                )
            else:
                object.__setattr__(self, name, v)
        if len(n) != 1:
            raise ScenarioError("CellLayer: columns must be one-dimensional arrays.")
        for name in (*cols, "site"):
            if getattr(self, name).shape != n:
                raise ScenarioError(
                    f"CellLayer: column {name} has shape {getattr(self, name).shape}, expected "
                    f"{n} like x_m; pass one value per cell."
                )
        if self.environment not in _MAX_D2D_M:
            raise ScenarioError(
                f"CellLayer: unknown environment {self.environment!r}; pass one of "
                f"{sorted(_MAX_D2D_M)}."
            )
        if self.pattern not in ("sector", "beam"):
            raise ScenarioError(
                f"CellLayer: unknown pattern {self.pattern!r}; pass 'sector' or 'beam'."
            )
        if not self.bandwidth_hz > 0.0:
            raise ScenarioError(f"CellLayer: bandwidth_hz must be > 0; got {self.bandwidth_hz}.")
        if not 0.4 <= self.freq_ghz <= 100.0:
            raise ModelRangeError(
                f"CellLayer: freq_ghz {self.freq_ghz} lies outside the 0.4–100 GHz of the "
                "supported models (TR 38.901 0.5–100 GHz)."
            )
        if np.any(~np.isfinite(self.x_m)) or np.any(~np.isfinite(self.y_m)):
            raise ScenarioError("CellLayer: cell positions must be finite.")
        if self.freq_ghz >= 6.0:
            object.__setattr__(
                self, "_gas_db_per_km", pl.gas_specific_attenuation_db_per_km(self.freq_ghz)
            )

    @property
    def n_cells(self) -> int:
        """Number of cells ``C``."""
        return int(self.x_m.shape[0])

    @property
    def xy_m(self) -> Float:
        """Cell positions as a ``(C, 2)`` array."""
        return np.column_stack([self.x_m, self.y_m])


@dataclass(frozen=True)
class SinrResult:
    """Per-user downlink state on one layer (arrays of length ``U``).

    ``serving_cell`` is -1 where no cell of the layer is on and within model range; there the
    powers are -inf and the SINR is -inf (never NaN). ``sir_db`` is the TR 38.901 §7.8
    "geometry" (serving over total interference, no noise; +inf with no interferer).
    """

    serving_cell: Int
    serving_rx_dbm: Float
    coupling_gain_db: Float
    interference_dbm: Float
    noise_dbm: float
    sinr_db: Float
    sir_db: Float


# --------------------------------------------------------------------------- randomness


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014), elementwise on uint64 arrays."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def _link_key(seed: int, a: ArrayLike, b: ArrayLike) -> NDArray[np.uint64]:
    aa = np.atleast_1d(np.asarray(a, dtype=np.int64)).astype(np.uint64)
    bb = np.atleast_1d(np.asarray(b, dtype=np.int64)).astype(np.uint64)
    aa, bb = np.broadcast_arrays(aa, bb)
    salt = np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    return _mix64(aa * np.uint64(0xD1B54A32D192ED03) + (bb ^ salt))


def _stream(key: NDArray[np.uint64], stream: int) -> NDArray[np.uint64]:
    return _mix64(key + np.uint64((stream * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))


def hashed_uniform(seed: int, a: ArrayLike, b: ArrayLike, stream: int) -> Float:
    """Uniform [0, 1) numbers keyed by ``(seed, a, b, stream)`` — a counter-based generator.

    The same key always gives the same number, whatever else is drawn, so a link's random state
    is reproducible independently of how links are batched (SplitMix64 mixing).

    Examples
    --------
    >>> u = hashed_uniform(1, [0, 1], [5, 5], 0)
    >>> bool(((u >= 0) & (u < 1)).all()) and u[0] != u[1]
    True
    """
    return _uniform(_stream(_link_key(seed, a, b), stream))


def _uniform(x: NDArray[np.uint64]) -> Float:
    return np.asarray((x >> np.uint64(11)).astype(np.float64) * 2.0**-53, dtype=np.float64)


def _normal(x: NDArray[np.uint64]) -> Float:
    # Box–Muller on the two 32-bit halves of one 64-bit draw.
    u1 = ((x >> np.uint64(32)).astype(np.float64) + 1.0) * 2.0**-32  # (0, 1]
    u2 = (x & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
    return np.asarray(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2), dtype=np.float64)


def hashed_normal(seed: int, a: ArrayLike, b: ArrayLike, stream: int) -> Float:
    """Standard normal numbers keyed like :func:`hashed_uniform` (Box–Muller)."""
    return _normal(_stream(_link_key(seed, a, b), stream))


# --------------------------------------------------------------------------- geometry


def link_geometry(
    ue_xy_m: Float,
    ue_height_m: Float,
    cells: CellLayer,
    idx: Int,
    wrap_shifts_m: Float | None = None,
) -> tuple[Float, Float, Float, Float]:
    """Distances and angles of the links ``user u → cell idx[u, j]``.

    Parameters
    ----------
    ue_xy_m : (U, 2) array
    ue_height_m : (U,) array
    cells : CellLayer
    idx : (U, K) int array of cell indices
    wrap_shifts_m : (S, 2) array or None
        Translations of the cell layout (wrap-around); for each link the image nearest to the
        user is used. Include ``(0, 0)``.

    Returns
    -------
    d2d_m, d3d_m, azimuth_deg, zenith_deg : (U, K) arrays
        Horizontal and direct distance; azimuth (from the x-axis) and zenith angle (0 up,
        90 horizon, 180 straight down) of the user as seen from the cell.
    """
    dx = ue_xy_m[:, None, 0] - cells.x_m[idx]
    dy = ue_xy_m[:, None, 1] - cells.y_m[idx]
    if wrap_shifts_m is not None:
        sx = dx[..., None] - wrap_shifts_m[None, None, :, 0]
        sy = dy[..., None] - wrap_shifts_m[None, None, :, 1]
        best = np.argmin(sx * sx + sy * sy, axis=-1)[..., None]
        dx = np.take_along_axis(sx, best, axis=-1)[..., 0]
        dy = np.take_along_axis(sy, best, axis=-1)[..., 0]
    d2d = np.hypot(dx, dy)
    dz = ue_height_m[:, None] - cells.height_m[idx]
    d3d = np.hypot(d2d, dz)
    az = np.degrees(np.arctan2(dy, dx))
    zen = np.degrees(np.arctan2(d2d, dz))
    return d2d, d3d, az, zen


class _NearestCells:
    """k nearest cells via a cKDTree over *sites* when every site has the same cell count.

    Co-located sectors make a cell-level tree slow (ties); a site tree queried for
    ``ceil(k / n)`` sites and expanded to their ``n`` cells gives the same candidate set.
    """

    def __init__(self, cells: CellLayer, k: int) -> None:
        site = cells.site
        uniq, first, counts = np.unique(site, return_index=True, return_counts=True)
        self.k = k
        self.by_site = bool(counts.size and np.all(counts == counts[0]))
        if self.by_site:
            n = int(counts[0])
            order = np.argsort(site, kind="stable")
            self.site_cells = order.reshape(uniq.size, n)
            xy = cells.xy_m[first]
            self.ks = min(-(-k // n), uniq.size)
            self.tree = cKDTree(xy)
        else:
            self.tree = cKDTree(cells.xy_m)

    def __call__(self, xy: Float) -> Int:
        if self.by_site:
            _, nn = self.tree.query(xy, k=self.ks)
            nn = np.asarray(nn, dtype=np.int64).reshape(xy.shape[0], self.ks)
            return np.asarray(self.site_cells[nn].reshape(xy.shape[0], -1), dtype=np.int64)
        _, nn = self.tree.query(xy, k=self.k)
        return np.asarray(nn, dtype=np.int64).reshape(xy.shape[0], self.k)


def nearest_cells(ue_xy_m: ArrayLike, cells: CellLayer, k: int) -> Int:
    """Indices ``(U, K)`` of the cells of the ``ceil(k/n)`` nearest sites of each user.

    With ``n`` cells per site ``K = n · ceil(k/n)``; otherwise the ``k`` nearest cells.
    Reuse the result for every carrier radiated from the same sites (``cell_index``).
    """
    xy = np.atleast_2d(np.asarray(ue_xy_m, dtype=np.float64))
    if k >= cells.n_cells:
        return np.broadcast_to(
            np.arange(cells.n_cells, dtype=np.int64), (xy.shape[0], cells.n_cells)
        ).copy()
    return _NearestCells(cells, max(1, int(k)))(xy)


# --------------------------------------------------------------------------- link budget


def _per_cell(value: float | Float, idx: Int) -> float | Float:
    return value if isinstance(value, float) else np.asarray(value)[idx]


def _antenna_gain_db(cells: CellLayer, idx: Int, az: Float, zen: Float) -> Float:
    g_max = _per_cell(cells.element_gain_dbi, idx)
    if cells.pattern == "sector":
        return antenna.sector_gain_dbi(
            zen,
            az - cells.azimuth_deg[idx],
            cells.tilt_deg[idx],
            cells.n_vertical,
            0.5,
            g_max,
        )
    off = antenna.off_axis_angle_deg(zen, az, cells.tilt_deg[idx], cells.azimuth_deg[idx])
    return antenna.beam_gain_dbi(off, g_max, _per_cell(cells.beam_hpbw_deg, idx))


def _pathloss_db(
    cells: CellLayer,
    idx: Int,
    d2d: Float,
    d3d: Float,
    h_ut: Float,
    d2d_in: Float,
    ue_id: Int,
    seed: int | None,
) -> Float:
    env = cells.environment
    f = cells.freq_ghz
    h_bs = cells.height_m[idx]
    hu = np.broadcast_to(h_ut[:, None], d2d.shape)
    if env == "fspl":
        return pl.free_space_db(d3d, f)
    d_out = np.maximum(d2d - d2d_in[:, None], 0.0)
    p_los = pl.los_probability(env, d_out, np.minimum(hu, 23.0))
    if seed is None:
        a = pl.pathloss_db(env, d2d, d3d, f, True, h_bs, hu)
        b = pl.pathloss_db(env, d2d, d3d, f, False, h_bs, hu)
        gain = p_los * 10.0 ** (-a / 10.0) + (1.0 - p_los) * 10.0 ** (-b / 10.0)
        return np.asarray(-10.0 * np.log10(gain), dtype=np.float64)
    key = _link_key(seed, np.broadcast_to(ue_id[:, None], d2d.shape), cells.site[idx])
    los = _uniform(_stream(key, 1)) < p_los
    h_e: Float | float = 1.0
    if env == "uma" and np.any(hu >= 13.0):
        # Table 7.4.1-1 Note 1 with counter-based draws.
        h_e = pl.uma_env_height_from_uniforms_m(
            d2d, hu, _uniform(_stream(key, 2)), _uniform(_stream(key, 3))
        )
    loss = pl.pathloss_db(env, d2d, d3d, f, los, h_bs, hu, h_e)
    beyond: NDArray[np.bool_] | bool = False
    if env == "rma":
        beyond = np.asarray(d2d > pl.rma_breakpoint_distance_m(h_bs, hu, f))
    std = pl.shadow_fading_std_db(env, los, beyond)
    return np.asarray(loss + std * _normal(_stream(key, 4)), dtype=np.float64)


def downlink_sinr(
    ue_xy_m: ArrayLike,
    ue_height_m: ArrayLike,
    cells: CellLayer,
    *,
    noise_figure_db: float = 9.0,
    k_nearest: int | None = None,
    seed: int | None = None,
    ue_d2d_in_m: ArrayLike | None = None,
    ue_extra_loss_db: ArrayLike | None = None,
    cell_on: ArrayLike | None = None,
    cell_load: ArrayLike | None = None,
    tx_power_dbm: ArrayLike | None = None,
    wrap_shifts_m: ArrayLike | None = None,
    beyond_range: BeyondRange = "raise",
    ue_id: ArrayLike | None = None,
    cell_index: ArrayLike | None = None,
    workers: int | None = None,
    chunk_links: int = 1_000_000,
) -> SinrResult:
    """Serving cell, received power, geometry and SINR of every user on one layer.

    Coupling gain of a link = BS antenna gain − path loss − shadow fading − gas loss
    (TR 38.901 §7.6.1, above 6 GHz) − the user's extra loss (O2I penetration, body loss, …);
    the user antenna is isotropic (0 dBi). Received power = cell transmit power + coupling gain.

    Parameters
    ----------
    ue_xy_m : (U, 2) array_like
        User positions on the local plane (m).
    ue_height_m : (U,) array_like or float
        User antenna heights (m).
    cells : CellLayer
        The layer's cells.
    noise_figure_db : float
        User noise figure; noise = −174 dBm/Hz + 10 log10(bandwidth) + NF.
    k_nearest : int or None
        Evaluate only the ``k`` nearest cells of each user (cKDTree); ``None`` evaluates all.
    seed : int or None
        Random LOS state and shadow fading keyed by ``(seed, user, site)``; ``None`` uses the
        LOS-probability-weighted mean path loss without shadow fading.
    ue_d2d_in_m : (U,) array_like or None
        Indoor distance of indoor users (TR 38.901 §7.4.3; the LOS probability uses
        ``d2D − d2D_in``); 0 for outdoor users.
    ue_extra_loss_db : (U,) array_like or None
        Per-user loss added to every link (e.g. drawn O2I penetration loss).
    cell_on : (C,) bool array_like or None
        Cells switched off neither serve nor interfere.
    cell_load : (C,) array_like or None
        Share of resources each cell transmits on, 0–1, weighting its interference
        (1 = full buffer, the default).
    tx_power_dbm : (C,) array_like or None
        Override of ``cells.tx_power_dbm`` (power control) without rebuilding the layer.
    wrap_shifts_m : (S, 2) array_like or None
        Wrap-around translations (dense evaluation only).
    beyond_range : {"raise", "drop"}
        Links beyond the path-loss model's distance range raise
        :class:`~tsunagu.errors.ModelRangeError` (default) or are dropped; any other value
        raises :class:`~tsunagu.errors.ModelRangeError` naming the two choices.
    ue_id : (U,) int array_like or None
        Identity of each user for the random draws (default ``0 … U-1``); pass the same ids
        when evaluating a subset so that a user keeps its LOS state and shadow fading.
    cell_index : (U, K) int array_like or None
        Precomputed candidate cells per user (e.g. from :func:`nearest_cells`, shared by
        carriers on the same sites); overrides ``k_nearest``.
    workers : int or None
        Threads evaluating chunks of users in parallel (NumPy releases the GIL); ``None`` uses
        every core. Results do not depend on it.
    chunk_links : int
        Upper bound on links evaluated at once per thread (memory ≈ 30 float64 arrays of that
        size).

    Returns
    -------
    SinrResult

    Raises
    ------
    ModelRangeError
        Frequency, heights or (with ``beyond_range="raise"``) distances outside the model; an
        unknown ``beyond_range``.
    ScenarioError
        Inconsistent array shapes.
    """
    if beyond_range not in get_args(BeyondRange):
        raise ModelRangeError(
            f"downlink_sinr: unknown beyond_range {beyond_range!r}; pass one of "
            f"{list(get_args(BeyondRange))} ('raise' rejects links beyond the path-loss model's "
            "distance range, 'drop' leaves them out)."
        )
    ue_xy = np.atleast_2d(np.asarray(ue_xy_m, dtype=np.float64))
    if ue_xy.ndim != 2 or ue_xy.shape[1] != 2:
        raise ScenarioError(f"downlink_sinr: ue_xy_m must have shape (U, 2); got {ue_xy.shape}.")
    n_ue = ue_xy.shape[0]
    h_ut = np.broadcast_to(np.asarray(ue_height_m, dtype=np.float64), (n_ue,)).astype(np.float64)
    d_in = (
        np.zeros(n_ue)
        if ue_d2d_in_m is None
        else np.broadcast_to(np.asarray(ue_d2d_in_m, dtype=np.float64), (n_ue,))
    )
    extra = (
        np.zeros(n_ue)
        if ue_extra_loss_db is None
        else np.broadcast_to(np.asarray(ue_extra_loss_db, dtype=np.float64), (n_ue,))
    )
    n_cells = cells.n_cells
    on = (
        np.ones(n_cells, dtype=bool)
        if cell_on is None
        else np.broadcast_to(np.asarray(cell_on, dtype=bool), (n_cells,))
    )
    load = (
        np.ones(n_cells)
        if cell_load is None
        else np.broadcast_to(np.asarray(cell_load, dtype=np.float64), (n_cells,))
    )
    if np.any((load < 0.0) | (load > 1.0)) or np.any(np.isnan(load)):
        raise ScenarioError("downlink_sinr: cell_load must lie in [0, 1] (share of resources).")
    p_tx = (
        cells.tx_power_dbm
        if tx_power_dbm is None
        else np.broadcast_to(np.asarray(tx_power_dbm, dtype=np.float64), (n_cells,))
    )
    shifts = None if wrap_shifts_m is None else np.asarray(wrap_shifts_m, dtype=np.float64)
    if shifts is not None and k_nearest is not None:
        raise ScenarioError(
            "downlink_sinr: wrap-around (wrap_shifts_m) needs dense evaluation; pass "
            "k_nearest=None."
        )
    k = n_cells if k_nearest is None else max(1, min(int(k_nearest), n_cells))
    if cell_index is not None:
        cell_index = np.asarray(cell_index, dtype=np.int64)
        if cell_index.ndim != 2 or cell_index.shape[0] != n_ue:
            raise ScenarioError(
                f"downlink_sinr: cell_index must have shape (U, K) with U = {n_ue}; got "
                f"{cell_index.shape}."
            )
        k = cell_index.shape[1]
    noise = float(thermal_noise_dbm(cells.bandwidth_hz, noise_figure_db))
    noise_mw = 10.0 ** (noise / 10.0)
    max_d = _MAX_D2D_M[cells.environment]

    serving = np.full(n_ue, -1, dtype=np.int64)
    s_mw = np.zeros(n_ue)
    i_mw = np.zeros(n_ue)
    gain_s = np.full(n_ue, -np.inf)
    uid_all = (
        np.arange(n_ue, dtype=np.int64)
        if ue_id is None
        else np.broadcast_to(np.asarray(ue_id, dtype=np.int64), (n_ue,))
    )
    step = max(1, chunk_links // max(k, 1))

    def chunk(start: int) -> None:
        sl = slice(start, min(start + step, n_ue))
        xy = ue_xy[sl]
        if cell_index is not None:
            idx = cell_index[sl]
        elif k >= n_cells:
            idx = np.broadcast_to(np.arange(n_cells, dtype=np.int64), (xy.shape[0], n_cells))
        else:
            assert finder is not None  # invariant: built above whenever k < n_cells
            idx = finder(xy)
        d2d, d3d, az, zen = link_geometry(xy, h_ut[sl], cells, idx, shifts)
        valid = np.broadcast_to(on[idx], d2d.shape)
        if beyond_range == "drop":
            inside = d2d <= max_d
            valid = valid & inside
            d2d = np.where(inside, d2d, 0.0)
            d3d = np.where(inside, d3d, np.abs(h_ut[sl, None] - cells.height_m[idx]))
        loss = _pathloss_db(cells, idx, d2d, d3d, h_ut[sl], d_in[sl], uid_all[sl], seed)
        if cells._gas_db_per_km > 0.0:
            loss = loss + cells._gas_db_per_km * d3d / 1000.0
        g = _antenna_gain_db(cells, idx, az, zen) - loss - extra[sl, None]
        g = np.where(valid, g, -np.inf)
        rx = p_tx[idx] + g
        best = np.argmax(rx, axis=1)
        rows = np.arange(rx.shape[0])
        has = np.isfinite(rx[rows, best])
        with np.errstate(under="ignore"):
            rx_mw = np.where(valid, np.exp(rx * (np.log(10.0) / 10.0)), 0.0)
        s = rx_mw[rows, best]
        tot_i = (rx_mw * load[idx]).sum(axis=1) - s * load[idx[rows, best]]
        serving[sl] = np.where(has, idx[rows, best], -1)
        s_mw[sl] = np.where(has, s, 0.0)
        i_mw[sl] = np.maximum(tot_i, 0.0)
        gain_s[sl] = np.where(has, g[rows, best], -np.inf)

    finder = _NearestCells(cells, k) if (cell_index is None and k < n_cells) else None
    starts = range(0, n_ue, step)
    n_workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), len(starts)))
    if n_workers == 1:
        for st in starts:
            chunk(st)
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            list(pool.map(chunk, starts))

    with np.errstate(divide="ignore"):
        s_dbm = np.where(s_mw > 0.0, 10.0 * np.log10(np.where(s_mw > 0.0, s_mw, 1.0)), -np.inf)
        i_dbm = np.where(i_mw > 0.0, 10.0 * np.log10(np.where(i_mw > 0.0, i_mw, 1.0)), -np.inf)
        sinr = np.where(s_mw > 0.0, s_dbm - 10.0 * np.log10(i_mw + noise_mw), -np.inf)
        sir = np.full(n_ue, -np.inf)
        both = (s_mw > 0.0) & (i_mw > 0.0)
        sir[both] = s_dbm[both] - i_dbm[both]
        sir[(s_mw > 0.0) & ~(i_mw > 0.0)] = np.inf
    return SinrResult(
        serving_cell=serving,
        serving_rx_dbm=np.asarray(s_dbm, dtype=np.float64),
        coupling_gain_db=gain_s,
        interference_dbm=np.asarray(i_dbm, dtype=np.float64),
        noise_dbm=noise,
        sinr_db=np.asarray(sinr, dtype=np.float64),
        sir_db=sir,
    )


def cell_loads(serving_cell: ArrayLike, n_cells: int, weights: ArrayLike | None = None) -> Float:
    """Users (or weighted users) attached to each cell: a ``bincount`` of ``serving_cell``.

    Users with ``serving_cell == -1`` are not counted.
    """
    s = np.asarray(serving_cell, dtype=np.int64)
    ok = s >= 0
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    return np.asarray(np.bincount(s[ok], weights=w, minlength=n_cells), dtype=np.float64)
