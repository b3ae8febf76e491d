"""Distance links: MBR margins that never drop a pair, and pair distances in metres.

Both come from :mod:`eolinked.geosparql.geodesy`, so interlink and the store agree:

* :func:`expand` is :func:`~eolinked.geosparql.geodesy.widen_bounds`: in a geographic CRS the
  target MBRs grow by a latitude margin d/R and a longitude margin asin(sin(d/R) / cos φmax)
  (φmax: the grown box's most poleward latitude) with R below every radius of curvature of the
  ellipsoid and 1 % slack, so no pair within d is filtered out; in a projected CRS by d in
  CRS units.
* :func:`distances` is :func:`~eolinked.geosparql.geodesy.geodesic_distance`, the function
  behind the store's ``geof:distance`` / ``geof:metricDistance``: 0 when the geometries
  intersect, otherwise the exact minimum geodesic distance on the CRS's ellipsoid between the
  two geometries (edges straight in lon/lat, as GEOS treats them), so ``il:distanceMetres``
  equals ``geof:distance`` on the same pair; in a projected CRS the Cartesian distance times
  the metres per CRS unit.
"""
from __future__ import annotations

import numpy as np
import pyproj

from eolinked import crs as crslib
from eolinked.geosparql.geodesy import geodesic_distance, widen_bounds


def expand(bounds: np.ndarray, metres: float, geographic: bool, unit: float = 1.0) -> np.ndarray:
    """MBRs grown so that every geometry within ``metres`` of the original overlaps them."""
    return widen_bounds(bounds, metres, geographic, unit)


def crs_spec(crs: pyproj.CRS) -> str:
    """The CRS as the string :func:`distances` takes: its IRI (as a literal carries it), else WKT."""
    return crslib.crs_to_iri(crs) or crs.to_wkt()


def distances(a: np.ndarray, b: np.ndarray, crs: str) -> np.ndarray:
    """Metres between the geometries ``a[k]`` and ``b[k]`` (x/y order, both in ``crs``)."""
    if len(a) == 0:
        return np.empty(0)
    return geodesic_distance(a, b, crs)
