"""Interlinking: DE-9IM and distance links between two geospatial datasets, exact or progressive.

The public surface::

    from interlink import interlink, evaluate, read_features, Features, RELATIONS
    summary = interlink("buildings.nt", "landuse.ttl", "links.nt", relations="sfWithin,sfOverlaps")
"""
from .evaluate import Evaluation, evaluate
from .partition import LinkSpec, link_tables
from .readers import Features, read_features
from .runner import Summary, interlink
from .verify import RELATIONS
from .weighting import SCHEMES

__all__ = ["RELATIONS", "SCHEMES", "Evaluation", "Features", "LinkSpec", "Summary", "evaluate", "interlink",
           "link_tables", "read_features"]
