"""Measures: distance, area, length, perimeter (GeoSPARQL 1.0 distance, 1.1 metric* and unit forms).

Linear units on a geographic CRS are geodesic on the CRS ellipsoid: distances are the exact
minimum geodesic distance between the two geometries (:func:`.geodesy.geodesic_distance`, the
function interlink's distance links use too), lengths sum geodesic segments, areas are ellipsoidal.  On a projected CRS
they are Cartesian, scaled by the CRS's axis unit.  Angular units (uom:degree, uom:radian) on
a geographic CRS measure in the lon/lat plane (as GEOS would); on a projected CRS a distance
is turned into the central angle on the mean Earth sphere.  Z is ignored; results are
xsd:double and an empty geometry is an error for distance.
"""
from __future__ import annotations

import numpy as np
import shapely

from eolinked.terms import Terms
from eolinked.vocab import GEOF, UOM

from ._core import (
    Geoms,
    common,
    doubles,
    geographic,
    geometries,
    iri_values,
    units,
)
from .geodesy import (
    MEAN_EARTH_RADIUS,
    geodesic_areas,
    geodesic_distance,
    geodesic_lengths,
    lines_of,
)

AREA_UNITS = {UOM + "squareMetre": 1.0, UOM + "squareMeter": 1.0, UOM + "squareKilometre": 1e6,
              UOM + "squareKilometer": 1e6, UOM + "hectare": 1e4, UOM + "acre": 4046.8564224}


def distance(a: Terms, b: Terms, unit: Terms) -> Terms:
    """geof:distance(geom1, geom2, unit) -> xsd:double."""
    ga, gb = common(geometries(a), geometries(b))
    kind, factor = units(unit)
    ok = ga.ok & gb.ok & (kind != None) & ~shapely.is_empty(ga.geom) & ~shapely.is_empty(gb.geom)
    geo, metres_per_unit = geographic(ga.crs)
    out = np.full(len(ok), np.nan)
    planar = np.full(len(ok), np.nan)
    planar[ok] = shapely.distance(ga.geom[ok], gb.geom[ok])
    linear, angular = ok & (kind == "linear"), ok & (kind == "angular")
    metres = np.full(len(ok), np.nan)
    metres[~geo] = planar[~geo] * metres_per_unit[~geo]
    need = linear & geo
    if need.any():
        metres[need] = geodesic_distance(ga.geom[need], gb.geom[need], ga.crs[need])
    out[linear] = metres[linear] / factor[linear]
    # angular: planar degrees on a geographic CRS, central angle on a projected one
    deg = np.where(geo, planar, np.degrees(metres / MEAN_EARTH_RADIUS))
    out[angular] = deg[angular] / factor[angular]
    return doubles(out, ok)


def metric_distance(a: Terms, b: Terms) -> Terms:
    """geof:metricDistance(geom1, geom2) -> metres."""
    return distance(a, b, Terms.iris(np.full(len(a), UOM + "metre", object)))


def _measure(g: Geoms, unit: Terms | None, geodesic, planar, square: bool) -> Terms:
    """Length-like (``square`` False) or area-like measure in the requested unit."""
    n = len(g)
    if unit is None:
        kind, factor = np.full(n, "linear", object), np.ones(n)
    else:
        kind, factor = units(unit)
        if square:  # area units are accepted as they are; linear units are squared
            iris = iri_values(unit)
            for iri, f in AREA_UNITS.items():
                sel = iris == iri
                kind[sel], factor[sel] = "area", f
    ok = g.ok & (kind != None)
    geo, metres_per_unit = geographic(g.crs)
    value = np.full(n, np.nan)
    flat = np.full(n, np.nan)
    flat[ok] = planar(g.geom[ok])
    metric = ok & geo & (kind != "angular")
    value[metric] = geodesic(g.geom, np.where(metric, g.crs, None))[metric]
    scale = metres_per_unit ** 2 if square else metres_per_unit
    value[ok & ~geo] = flat[ok & ~geo] * scale[ok & ~geo]
    angular = ok & (kind == "angular")
    value[angular & geo] = flat[angular & geo]  # degrees (squared) in the lon/lat plane
    value[angular & ~geo] = np.nan  # an angular measure of a projected geometry is undefined
    f = np.where(kind == "linear", factor ** 2 if square else factor, factor)
    return doubles(value / f, ok)


def _unary(geodesic, planar, square: bool, fixed_unit: bool):
    def fn(g: Terms, unit: Terms | None = None) -> Terms:
        return _measure(geometries(g), None if fixed_unit else unit, geodesic, planar, square)
    return fn


def _rings_length(geoms, crs):
    return geodesic_lengths(geoms, crs, rings_only=True)


def _planar_perimeter(geoms):
    rings, row, _ = lines_of(geoms, rings_only=True)
    return np.bincount(row, shapely.length(rings), minlength=len(geoms))


area = _unary(geodesic_areas, shapely.area, True, False)
length = _unary(geodesic_lengths, shapely.length, False, False)
perimeter = _unary(_rings_length, _planar_perimeter, False, False)

FUNCTIONS = {
    GEOF + "distance": distance,
    GEOF + "metricDistance": metric_distance,
    GEOF + "area": area,
    GEOF + "metricArea": _unary(geodesic_areas, shapely.area, True, True),
    GEOF + "length": length,
    GEOF + "metricLength": _unary(geodesic_lengths, shapely.length, False, True),
    GEOF + "perimeter": perimeter,
    GEOF + "metricPerimeter": _unary(_rings_length, _planar_perimeter, False, True),
}
