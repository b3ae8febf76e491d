"""Distance links: MBR margins that are safe for a geodesic distance, and pair distances in metres.

Geographic CRS: MBRs grow by a latitude margin d/R and a longitude margin
2·asin(sin(d/2R)/cos φmax) (the great-circle bound at the MBR's most poleward latitude,
φmax), with R = 6 335 000 m (below WGS84's smallest meridian radius of curvature) and 1 %
slack, so no pair closer than d is filtered out. The distance of a pair is 0 when the
geometries intersect, otherwise the geodesic (``pyproj.Geod`` of the CRS's ellipsoid)
length between the two nearest points that ``shapely.shortest_line`` finds after scaling
longitudes by cos(latitude) around the pair (a local equirectangular view, so "nearest"
is judged in near-metric space). For points this is exact; for lines and polygons it is an
upper bound of the true geodesic minimum, tight at the scales distance links are used for.
Projected CRS: Cartesian ``shapely.distance`` times the metres per CRS unit.
"""
from __future__ import annotations

import numpy as np
import pyproj
import shapely

_R = 6_335_000.0
_SLACK = 1.01


def expand(bounds: np.ndarray, metres: float, geographic: bool, unit: float = 1.0) -> np.ndarray:
    """MBRs grown so that every geometry within ``metres`` of the original overlaps them."""
    out = bounds.astype(float, copy=True)
    if not geographic:
        m = metres * _SLACK / unit
        out[:, :2] -= m
        out[:, 2:] += m
        return out
    dlat = np.degrees(metres * _SLACK / _R)
    out[:, 1] = np.maximum(out[:, 1] - dlat, -90.0)
    out[:, 3] = np.minimum(out[:, 3] + dlat, 90.0)
    phi = np.radians(np.maximum(np.abs(out[:, 1]), np.abs(out[:, 3])))
    ratio = np.sin(metres * _SLACK / (2 * _R)) / np.maximum(np.cos(phi), 1e-12)
    dlon = np.where(ratio < 1, np.degrees(2 * np.arcsin(np.minimum(ratio, 1.0))), 360.0)  # near a pole: all
    out[:, 0] -= dlon
    out[:, 2] += dlon
    return out


def distances(a: np.ndarray, b: np.ndarray, geod: pyproj.Geod | None, unit: float = 1.0) -> np.ndarray:
    """Metres between the geometries ``a[k]`` and ``b[k]``; ``geod`` for lon/lat, None for projected."""
    if len(a) == 0:
        return np.empty(0)
    if geod is None:
        return shapely.distance(a, b) * unit
    out = np.zeros(len(a))
    apart = ~shapely.intersects(a, b)
    if apart.any():
        a, b = a[apart], b[apart]
        lat = (shapely.bounds(a)[:, [1, 3]].sum(1) + shapely.bounds(b)[:, [1, 3]].sum(1)) / 4
        k = np.maximum(np.cos(np.radians(lat)), 1e-6)
        xy = shapely.get_coordinates(shapely.shortest_line(_scale_x(a, k), _scale_x(b, k))).reshape(-1, 4)
        xy[:, [0, 2]] /= k[:, None]
        out[apart] = geod.inv(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])[2]
    return out


def _scale_x(g: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Geometries with x multiplied by ``k`` (one factor per geometry)."""
    coords, index = shapely.get_coordinates(g, return_index=True)
    coords[:, 0] *= k[index]
    return shapely.set_coordinates(g.copy(), coords)


def geod_of(crs: pyproj.CRS) -> pyproj.Geod:
    return crs.get_geod() or pyproj.Geod(ellps="WGS84")
