"""The Geographica-style generator of the store benchmark (benchmarks/geographica.py)."""
from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pyoxigraph as ox
import pytest
import shapely

_spec = importlib.util.spec_from_file_location(
    "geographica", Path(__file__).resolve().parents[2] / "benchmarks" / "geographica.py")
geographica = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(geographica)

EX, GEO = geographica.EX, geographica.GEO
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("geographica") / "data.nt"
    meta = geographica.generate(50_000, out, seed=7)
    store = ox.Store()
    store.bulk_load(path=str(out), format=ox.RdfFormat.N_TRIPLES)  # valid N-Triples
    return out, meta, store


def _objects(store, predicate: str) -> dict[str, ox.Literal | ox.NamedNode]:
    return {q.subject.value: q.object for q in store.quads_for_pattern(None, ox.NamedNode(predicate), None)}


def test_counts(data):
    out, meta, store = data
    f = meta["features"]
    assert abs(meta["triples"] - 50_000) <= 0.02 * 50_000
    assert meta["triples"] == len(store) == out.read_bytes().count(b"\n")
    assert meta["triples"] == sum(geographica.PER_FEATURE[k] * n for k, n in f.items())
    types = Counter(o.value for o in _objects(store, TYPE).values())
    for kind, cls in geographica.CLASSES.items():
        assert types[EX + cls] == f[kind] > 0
    assert types[GEO + "Geometry"] == sum(f.values())
    assert f["road"] == f["parcel"] // 25 and f["poi"] == f["parcel"] // 4


def test_wkt_valid_and_in_region(data):
    _, meta, store = data
    wkt = _objects(store, GEO + "asWKT")
    assert len(wkt) == sum(meta["features"].values())
    prefix = geographica.CRS84
    assert all(lit.datatype.value == GEO + "wktLiteral" and lit.value.startswith(prefix) for lit in wkt.values())
    geoms = shapely.from_wkt([lit.value[len(prefix):] for lit in wkt.values()])
    assert shapely.is_valid(geoms).all()
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    rx0, ry0, rx1, ry1 = geographica.REGION
    assert rx0 <= x0 and ry0 <= y0 and x1 <= rx1 and y1 <= ry1
    kinds = np.array([iri.split("/")[-3] for iri in wkt])
    parcels, states = geoms[kinds == "parcel"], geoms[kinds == "state"]
    # parcels tile without overlapping and neighbours share edges exactly; states cover the region
    assert shapely.union_all(parcels).area == pytest.approx(shapely.area(parcels).sum())
    first = shapely.from_wkt(wkt[f"{EX}parcel/0/geometry"].value[len(prefix):])
    second = shapely.from_wkt(wkt[f"{EX}parcel/1/geometry"].value[len(prefix):])
    assert shapely.touches(first, second) and shapely.relate(first, second)[4] == "1"
    assert shapely.union_all(states).area == pytest.approx((rx1 - rx0) * (ry1 - ry0))


def test_links_are_consistent(data):
    _, _, store = data
    wkt = {k: shapely.from_wkt(v.value[len(geographica.CRS84):]) for k, v in _objects(store, GEO + "asWKT").items()}
    in_parcel = _objects(store, EX + "inParcel")
    in_state = _objects(store, EX + "inState")
    for poi, parcel in list(in_parcel.items())[:200]:
        assert shapely.within(wkt[poi + "/geometry"], wkt[parcel.value + "/geometry"])
    for parcel, state in list(in_state.items())[:200]:
        assert shapely.intersects(shapely.centroid(wkt[parcel + "/geometry"]), wkt[state.value + "/geometry"])


def test_tags_have_exact_selectivity(data):
    _, meta, store = data
    tags = _objects(store, EX + "tag")
    for kind, n in meta["features"].items():
        got = Counter(lit.value for s, lit in tags.items() if s.startswith(f"{EX}{kind}/"))
        assert sum(got.values()) == n
        for tag, share in list(geographica.TAGS.items())[:-1]:
            assert got[tag] == round(share * n)


def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a.nt", tmp_path / "b.nt", tmp_path / "c.nt"
    geographica.generate(5_000, a, seed=3)
    geographica.generate(5_000, b, seed=3)
    geographica.generate(5_000, c, seed=4)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert not list(tmp_path.glob(".*.part"))


def test_oxigraph_evaluates_geosparql_on_the_literals(data):
    """The benchmark's peer answers spatial filters on these CRS84 literals as shapely does."""
    _, _, store = data
    query = f"""PREFIX geo: <{GEO}> PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
    SELECT ?g WHERE {{ ?g geo:asWKT ?w . FILTER(geof:sfIntersects(?w, {geographica.window(0.05)})) }}"""
    got = {sol[0].value for sol in store.query(query)}
    wkt = _objects(store, GEO + "asWKT")
    geoms = shapely.from_wkt([lit.value[len(geographica.CRS84):] for lit in wkt.values()])
    hit = shapely.intersects(geoms, shapely.from_wkt(geographica.window_wkt(0.05)))
    assert got == set(np.array(list(wkt))[hit]) and 0 < len(got) < len(wkt)
