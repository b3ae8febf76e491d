"""GeoTriples' rrxf: geometry functions over a batch's decoded geometries (shapely arrays)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from eolinked import literals, ntriples
from eolinked.errors import EolinkedError
from eolinked.vocab import GEOJSON_LITERAL, GML_LITERAL, RRXF, WKT_LITERAL, XSD

from ..values import Values

_BOOL, _INT, _DOUBLE = XSD + "boolean", XSD + "integer", XSD + "double"


def _bools(mask, missing):
    out = np.where(mask, "true", "false").astype(object)
    out[missing] = None
    return pa.array(out, pa.string())


def _numbers(values, missing):
    arr = pa.array(np.asarray(values, dtype=float), mask=missing)
    return ntriples.as_text(arr)


def _ints(values, missing):
    return pa.array(np.asarray(values, dtype=np.int64), mask=missing).cast(pa.string())


def _has_m(g):
    return shapely.has_m(g) if hasattr(shapely, "has_m") else np.zeros(len(g), bool)


OPS = {
    "asWKT": lambda g, crs, miss: (literals.wkt_literals(g, crs), WKT_LITERAL),
    "hasSerialization": lambda g, crs, miss: (literals.wkt_literals(g, crs), WKT_LITERAL),
    "asGML": lambda g, crs, miss: (literals.gml_literals(g, crs), GML_LITERAL),
    "asGeoJSON": lambda g, crs, miss: (literals.geojson_literals(g, crs), GEOJSON_LITERAL),
    "isSimple": lambda g, crs, miss: (_bools(shapely.is_simple(g), miss), _BOOL),
    "isEmpty": lambda g, crs, miss: (_bools(shapely.is_empty(g), miss), _BOOL),
    "is3D": lambda g, crs, miss: (_bools(shapely.has_z(g), miss), _BOOL),
    "dimension": lambda g, crs, miss: (_ints(np.maximum(shapely.get_dimensions(g), 0), miss), _INT),
    "coordinateDimension": lambda g, crs, miss: (
        _ints(np.where(shapely.is_missing(g), 0, shapely.get_coordinate_dimension(g)), miss), _INT),
    "spatialDimension": lambda g, crs, miss: (
        _ints(np.where(shapely.is_missing(g), 0, shapely.get_coordinate_dimension(g) - _has_m(g)), miss), _INT),
    "area": lambda g, crs, miss: (_numbers(shapely.area(g), miss), _DOUBLE),
    "length": lambda g, crs, miss: (_numbers(shapely.length(g), miss), _DOUBLE),
    "centroid": lambda g, crs, miss: (literals.wkt_literals(shapely.centroid(g), crs), WKT_LITERAL),
}


def _spatial(name):
    op = OPS[name]

    def run(call, ctx, evaluate) -> Values:
        if len(call.inputs) != 1:
            raise EolinkedError(f"rrxf:{name} takes one geometry argument, got {len(call.inputs)}",
                                where=ctx.source_path, hint="rrx:argumentMap ( [ rml:reference \"the_geom\" ] )")
        tm = call.inputs[0][1]
        if tm.kind == "reference":
            geoms, crs = ctx.geometry.geoms(tm.reference)
        else:
            raw = evaluate(tm, ctx)
            arr = raw.data() if not raw.is_const else pa.repeat(pa.scalar(raw.const), ctx.n)
            geoms, crs = ctx.geometry.decode(arr)
        missing = shapely.is_missing(geoms)
        values, dtype = op(geoms, crs, missing)
        return Values(dense=values, types=dtype)

    run.spatial = True
    return run


FUNCTIONS = {RRXF + name: (_spatial(name), ["arg0"]) for name in OPS}
