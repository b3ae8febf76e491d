"""SPARQL 1.1 operators and built-in functions over :class:`eolinked.terms.Terms` columns.

``SCALARS[name](*args: Terms) -> Terms`` (a null kind in the result is an error), keyed by the
upper-case keyword (``STRLEN``), the operator (``=``, ``+``, ``UMINUS``, ``!``, ``SAMETERM``) or
the full IRI of an XSD cast; ``AGGREGATES[name](values: pa.ListArray, separator) -> Terms``;
``ebv(t)`` the effective boolean value; ``sort_key(t)`` bytes in ORDER BY order.
"""
from .aggregates import AGGREGATES
from .cast import CAST_SCALARS
from .compare import COMPARE_SCALARS, ebv, sort_key
from .datetime import DATE_SCALARS
from .numeric import NUMERIC_SCALARS
from .rdfterms import TERM_SCALARS
from .strings import STRING_SCALARS

SCALARS = {**COMPARE_SCALARS, **NUMERIC_SCALARS, **TERM_SCALARS, **STRING_SCALARS, **DATE_SCALARS,
           **CAST_SCALARS}

__all__ = ["AGGREGATES", "SCALARS", "ebv", "sort_key"]
