"""An independent brute-force reference for geodesic distances between lon/lat geometries.

Both geometries' linework (polygon boundaries, lines, points) is densified in lon/lat with
``shapely.segmentize`` so that consecutive points are at most ``SPACING`` metres apart (the new
points lie exactly on the straight lon/lat edges, as GEOS reads them), and the distance is the
smallest ``pyproj.Geod.inv`` over all pairs of points, or 0 when the geometries intersect.
Nothing of eolinked's geodesy is used. The brute force can only overestimate, by at most
:func:`tolerance` (a nearest point lies within half a spacing of a sample on each side).

For real data, ``prune=True`` keeps only the points that a per-pair azimuthal equidistant
projection puts within ``PRUNE_MARGIN`` of the smallest distance there (its distortion over a
few kilometres is far below that margin), so long parallel features stay affordable.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyproj
import shapely

WGS84 = pyproj.Geod(ellps="WGS84")
SPACING = 0.5          # metres between densified points
PRUNE_MARGIN = 0.5     # metres
_METRES_PER_DEGREE = 111_700.0  # above the largest length of a degree of latitude or longitude on WGS84


def linework(g):
    """Polygon boundaries, and lines and points as they are."""
    return shapely.boundary(g) if shapely.get_dimensions(g) == 2 else g


def densified(g, spacing: float = SPACING) -> np.ndarray:
    """(n, 2) lon/lat points of ``g``'s linework, consecutive points at most ``spacing`` metres apart."""
    return shapely.get_coordinates(shapely.segmentize(linework(g), spacing / _METRES_PER_DEGREE))


def tolerance(d, spacing: float = SPACING):
    """How much the brute force may exceed the true distance ``d``."""
    d = np.asarray(d, float)
    with np.errstate(divide="ignore"):
        return np.minimum(spacing, spacing ** 2 / (2 * np.maximum(d, 1e-12))) + 1e-6


def _min_inv(pa: np.ndarray, pb: np.ndarray, geod) -> float:
    best = np.inf
    chunk = max(1, 2_000_000 // max(1, len(pb)))
    for k in range(0, len(pa), chunk):
        part = pa[k:k + chunk]
        i, j = np.repeat(np.arange(len(part)), len(pb)), np.tile(np.arange(len(pb)), len(part))
        best = min(best, float(geod.inv(part[i, 0], part[i, 1], pb[j, 0], pb[j, 1])[2].min()))
    return best


@lru_cache(maxsize=256)
def _aeqd(lon0: float, lat0: float) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("OGC:CRS84", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84",
                                       always_xy=True)


def _prune(a, b, pa: np.ndarray, pb: np.ndarray):
    both = shapely.bounds(shapely.union(shapely.envelope(a), shapely.envelope(b)))
    # centred within about a kilometre of the pair (cached per 0.01 degree)
    tr = _aeqd(round((both[0] + both[2]) / 2, 2), round((both[1] + both[3]) / 2, 2))

    def project(xy):
        return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

    # the other side as a polyline through points 20 m apart: straight enough in the projection
    coarse_a = shapely.transform(shapely.segmentize(linework(a), 20 / _METRES_PER_DEGREE), project)
    coarse_b = shapely.transform(shapely.segmentize(linework(b), 20 / _METRES_PER_DEGREE), project)
    da = shapely.distance(shapely.points(project(pa)), coarse_b)
    db = shapely.distance(shapely.points(project(pb)), coarse_a)
    m = min(da.min(), db.min())
    return pa[da <= m + PRUNE_MARGIN], pb[db <= m + PRUNE_MARGIN]


def brute_distance(a, b, geod=WGS84, spacing: float = SPACING, prune: bool = False) -> float:
    """Metres between lon/lat geometries ``a`` and ``b`` by brute force (see the module docstring)."""
    if shapely.intersects(a, b):
        return 0.0
    pa, pb = densified(a, spacing), densified(b, spacing)
    if prune:
        pa, pb = _prune(a, b, pa, pb)
    return _min_inv(pa, pb, geod)


def brute_distances(a, b, **kw) -> np.ndarray:
    return np.array([brute_distance(x, y, **kw) for x, y in zip(a, b)])
