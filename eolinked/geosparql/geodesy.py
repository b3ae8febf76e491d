"""Metric geometry on the ellipsoid, vectorised over shapely arrays of lon/lat geometries.

* Lengths: sum of ``pyproj.Geod.inv`` geodesic segment lengths (all segments in one call).
* Areas: spherical excess of every ring edge on the authalic sphere of the CRS ellipsoid
  (areas on it equal ellipsoidal areas; edges are great circles there, a sub-ppm difference
  from ellipsoidal geodesics for city-sized polygons).
* Local metric work (buffers, nearest points): each row goes to the UTM zone (UPS beyond
  84N / 80S) of its centre, one transformation per distinct (CRS, zone).  Geometries
  spanning many zones or the antimeridian are distorted accordingly.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyproj
import shapely

from eolinked import crs as crslib

from ._core import reproject

MEAN_EARTH_RADIUS = 6371008.8  # IUGG mean radius, metres: angular <-> linear for projected CRSs


@lru_cache(maxsize=64)
def geod(iri: str) -> pyproj.Geod:
    """The ellipsoid of a geographic CRS (WGS84 when it has none)."""
    ell = crslib.as_crs(iri).ellipsoid
    if ell is None:
        return pyproj.Geod(ellps="WGS84")
    return pyproj.Geod(a=ell.semi_major_metre, b=ell.semi_minor_metre)


def _by_crs(crs: np.ndarray, sel: np.ndarray):
    sel = sel & (crs != None)
    for iri in set(crs[sel].tolist()):
        yield iri, sel & (crs == iri)


def _by_crs_zone(crs: np.ndarray, zone: np.ndarray):
    sel = crs != None
    for iri in set(crs[sel].tolist()):
        for z in np.unique(zone[sel & (crs == iri)]):
            yield iri, int(z), sel & (crs == iri) & (zone == z)


# -- lengths ----------------------------------------------------------------------------------
def lines_of(geoms: np.ndarray, rings_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(linestrings/rings, row index, is a hole): polygon rings, and lines unless ``rings_only``."""
    parts, row = shapely.get_parts(geoms, return_index=True)
    while True:  # flatten nested collections, one pass per nesting level
        nested = shapely.get_type_id(parts) >= 4
        if not nested.any():
            break
        sub, k = shapely.get_parts(parts[nested], return_index=True)
        parts, row = np.concatenate([parts[~nested], sub]), np.concatenate([row[~nested], row[nested][k]])
    types = shapely.get_type_id(parts)
    poly, line = types == 3, ((types == 1) | (types == 2)) & (not rings_only)
    rings, k = shapely.get_rings(parts[poly], return_index=True)
    hole = np.diff(k, prepend=-1) == 0  # get_rings gives each polygon's shell first
    return (np.concatenate([rings, parts[line]]), np.concatenate([row[poly][k], row[line]]),
            np.concatenate([hole, np.zeros(line.sum(), bool)]))


def geodesic_lengths(geoms: np.ndarray, crs: np.ndarray, rings_only: bool = False) -> np.ndarray:
    """Geodesic length in metres per row (perimeter for polygons; 0 for points)."""
    out = np.zeros(len(geoms))
    for iri, sel in _by_crs(crs, ~shapely.is_missing(geoms)):
        idx = np.flatnonzero(sel)
        lines, lrow, _ = lines_of(geoms[idx], rings_only)
        xy, k = shapely.get_coordinates(lines, return_index=True)
        same = k[1:] == k[:-1]
        _, _, d = geod(iri).inv(xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same])
        per_line = np.bincount(k[1:][same], d, minlength=len(lines))
        out[idx] = np.bincount(lrow, per_line, minlength=len(idx))
    return out


# -- areas ------------------------------------------------------------------------------------
def _authalic(g: pyproj.Geod):
    e2 = 1 - (g.b / g.a) ** 2
    e = np.sqrt(e2)

    def q(phi):
        s = np.sin(phi)
        if e == 0:
            return 2 * s
        return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))
    qp = q(np.pi / 2)
    return (lambda phi: np.arcsin(np.clip(q(phi) / qp, -1, 1))), g.a * np.sqrt(qp / 2)


def geodesic_areas(geoms: np.ndarray, crs: np.ndarray) -> np.ndarray:
    """Ellipsoidal area in square metres per row (0 for points and lines)."""
    out = np.zeros(len(geoms))
    for iri, sel in _by_crs(crs, ~shapely.is_missing(geoms)):
        idx = np.flatnonzero(sel)
        rings, rrow, hole = lines_of(geoms[idx], rings_only=True)
        xy, k = shapely.get_coordinates(rings, return_index=True)
        beta, radius = _authalic(geod(iri))
        lon, t = np.radians(xy[:, 0]), np.tan(beta(np.radians(xy[:, 1])) / 2)
        same = k[1:] == k[:-1]
        dlon = (lon[1:] - lon[:-1] + np.pi) % (2 * np.pi) - np.pi
        t1, t2 = t[:-1], t[1:]
        excess = 2 * np.arctan2(np.tan(dlon / 2) * (t1 + t2), 1 + t1 * t2)
        ring_area = np.abs(np.bincount(k[1:][same], excess[same], minlength=len(rings))) * radius ** 2
        ring_area = np.minimum(ring_area, 4 * np.pi * radius ** 2 - ring_area)  # the smaller side
        out[idx] = np.bincount(rrow, np.where(hole, -ring_area, ring_area), minlength=len(idx))
    return out


# -- local projections --------------------------------------------------------------------------
def zones(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """EPSG code of the UTM zone (UPS near the poles) containing each lon/lat."""
    lon, lat = np.nan_to_num(np.asarray(lon, float)), np.nan_to_num(np.asarray(lat, float))
    zone = (np.floor((lon + 180) / 6).astype(int) % 60) + 1
    code = np.where(lat >= 0, 32600, 32700) + zone
    return np.where(lat > 84, 5041, np.where(lat < -80, 5042, code))


def centres(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = shapely.bounds(geoms)
    return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2


def to_local(geoms: np.ndarray, crs: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.full(len(geoms), None, object)
    for src, z, sel in _by_crs_zone(crs, zone):
        out[sel] = reproject(geoms[sel], src, f"EPSG:{z}")
    return out


def from_local(geoms: np.ndarray, crs: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.full(len(geoms), None, object)
    for dst, z, sel in _by_crs_zone(crs, zone):
        out[sel] = reproject(geoms[sel], f"EPSG:{z}", dst)
    return out
