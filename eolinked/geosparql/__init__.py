"""The GeoSPARQL 1.0 / 1.1 function library, vectorised over :class:`eolinked.terms.Terms`.

* :data:`GEO_SCALARS` - ``{geof: IRI: fn(*args: Terms) -> Terms}``; a null kind in the result is an
  error (not a geometry literal, unparsable literal, unknown CRS or unit, wrong argument type).
* :data:`GEO_AGGREGATES` - ``{geof: IRI: fn(values: pa.ListArray of N-Triples text, separator=None) -> Terms}``.
* :class:`Geoms` / :func:`geometries` - geometry literals parsed; a function given a ``Geoms``
  for a geometry argument uses it as it is (callers that parse once per distinct term do so).
* :func:`geometry_properties` - geo:dimension, geo:coordinateDimension, geo:spatialDimension,
  geo:isEmpty and geo:isSimple of geometry literals.

Geometry arguments are geo:wktLiteral, geo:gmlLiteral, geo:geoJSONLiteral or geo:kmlLiteral; an
empty (blank) literal is an empty geometry.  Geometry results are geo:wktLiteral in the CRS of the
first geometry argument (no CRS prefix for CRS84), except asGML / asGeoJSON.
"""
from __future__ import annotations

from . import constructive, measures, properties, relations
from ._core import Geoms, geometries, geometry_rows
from .aggregates import AGGREGATES as GEO_AGGREGATES
from .properties import geometry_properties

GEO_SCALARS = {**relations.FUNCTIONS, **measures.FUNCTIONS, **constructive.FUNCTIONS, **properties.FUNCTIONS}

__all__ = ["GEO_AGGREGATES", "GEO_SCALARS", "Geoms", "geometries", "geometry_properties", "geometry_rows"]
