"""A Parquet GeoSPARQL store: load RDF, query it with SPARQL 1.1 + GeoSPARQL on SedonaDB.

``store.load(store_dir, files)`` builds or extends a store; ``store.Store(store_dir).query(text)``
answers SPARQL.  Both are imported on first use, so the command line starts fast.
"""

__all__ = ["Store", "load"]


def __getattr__(name):
    if name == "Store":
        from .engine import Store

        return Store
    if name == "load":
        from .loader import load

        return load
    raise AttributeError(name)
