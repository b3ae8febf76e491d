"""GeoTriples: RML mappings to GeoSPARQL triples, from CSV, JSON, vector geodata and class rasters."""
from .generate import generate_mapping
from .parser import load_mapping
from .runner import Summary, transform

__all__ = ["Summary", "generate_mapping", "load_mapping", "transform"]
