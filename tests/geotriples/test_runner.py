"""geotriples.runner end to end on fixtures built in code: outputs, CRS handling, errors, processes."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa
import pyogrio
import pyoxigraph
import pytest
import shapely

from eolinked.errors import EolinkedError
from eolinked.literals import parse_wkt_literals
from geotriples import transform
from geotriples.generate import RML_PREFIXES

PREFIXES = RML_PREFIXES + "@prefix ex: <http://example.com/ns#> .\n"

CSV_MAP = PREFIXES + """
<#P> rml:logicalSource [ rml:source "parcels.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{id}" ; rr:class ex:Parcel ] ;
  rr:predicateObjectMap [ rr:predicate ex:name ; rr:objectMap [ rml:reference "name" ] ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "wkt" ] ) ] ] .
"""


def _csv(tmp_path, rows, mapping=CSV_MAP):
    (tmp_path / "parcels.csv").write_text("id,name,wkt\n" + "".join(rows))
    (tmp_path / "map.ttl").write_text(mapping)
    return tmp_path / "map.ttl"


def _triples(path):
    return list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES))


def test_csv_with_wkt_column(tmp_path):
    m = _csv(tmp_path, ['1,"Field ""A""",POINT (16.3 48.2)\n', '2,,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n'])
    summary = transform(str(m), str(tmp_path / "out.nt"))
    triples = _triples(tmp_path / "out.nt")
    assert summary.triples == len(triples) == 5  # 2 types, 1 name (empty cell = null), 2 geometries
    names = [t.object.value for t in triples if t.predicate.value.endswith("#name")]
    assert names == ['Field "A"']
    wkts = [t.object for t in triples if t.predicate.value.endswith("asWKT")]
    assert all(w.datatype.value.endswith("wktLiteral") for w in wkts)
    assert shapely.Point(16.3, 48.2) in list(parse_wkt_literals([w.value for w in wkts])[0])


def test_target_crs_and_axis_order(tmp_path):
    m = _csv(tmp_path, ["1,a,POINT (16.3 48.2)\n"])
    transform(str(m), str(tmp_path / "out.nt"), target_crs="EPSG:4326")
    wkt = [t.object.value for t in _triples(tmp_path / "out.nt") if t.predicate.value.endswith("asWKT")][0]
    assert wkt == "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT (48.2 16.3)"  # latitude first


def test_formats_gzip_turtle_nquads(tmp_path):
    m = _csv(tmp_path, ["1,a,POINT (1 2)\n", "2,b,POINT (3 4)\n"])
    transform(str(m), str(tmp_path / "out.nt.gz"))
    with gzip.open(tmp_path / "out.nt.gz", "rt") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 6
    transform(str(m), str(tmp_path / "out.ttl"))
    text = (tmp_path / "out.ttl").read_text()
    assert "@prefix ex: <http://example.com/ns#> ." in text and " ex:name " in text
    ttl = {q.triple for q in pyoxigraph.parse(path=str(tmp_path / "out.ttl"), format=pyoxigraph.RdfFormat.TURTLE)}
    nt = {q.triple for q in pyoxigraph.parse("\n".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES)}
    assert ttl == nt and len(nt) == 6


def test_processes_give_the_same_triples(tmp_path):
    rows = [f"{i},name {i},POINT ({i} {i / 2})\n" for i in range(5000)]
    m = _csv(tmp_path, rows)
    transform(str(m), str(tmp_path / "one.nt"))
    transform(str(m), str(tmp_path / "two.nt"), processes=2, batch_size=700)
    one = (tmp_path / "one.nt").read_text().splitlines()
    two = (tmp_path / "two.nt").read_text().splitlines()
    assert sorted(one) == sorted(two) and len(one) == 15000


def test_shapefile_processes_and_geometry_functions(tmp_path):
    n = 3000
    geoms = shapely.buffer(shapely.points(np.arange(n) * 10.0, np.zeros(n)), 2, quad_segs=2)
    table = pa.table({"code": np.arange(n), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(table, tmp_path / "p.shp", geometry_name="geometry", geometry_type="Polygon",
                        crs="EPSG:25832", driver="ESRI Shapefile")
    mapping = PREFIXES + """
<#G> rml:logicalSource [ rml:source "p.shp" ] ;
  rr:subjectMap [ rr:template "http://example.com/g/{code}" ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "the_geom" ] ) ] ] ;
  rr:predicateObjectMap [ rr:predicate ex:area ;
    rr:objectMap [ rrx:function rrxf:area ; rrx:argumentMap ( [ rml:reference "the_geom" ] ) ] ] ;
  rr:predicateObjectMap [ rr:predicate ex:dim ;
    rr:objectMap [ rrx:function rrxf:coordinateDimension ; rrx:argumentMap ( [ rml:reference "the_geom" ] ) ] ] .
"""
    (tmp_path / "m.ttl").write_text(mapping)
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "one.nt"))
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "two.nt"), processes=2, batch_size=500)
    one = (tmp_path / "one.nt").read_text().splitlines()
    assert sorted(one) == sorted((tmp_path / "two.nt").read_text().splitlines()) and len(one) == 3 * n
    triples = _triples(tmp_path / "one.nt")
    areas = [float(t.object.value) for t in triples if t.predicate.value.endswith("area")]
    assert np.allclose(sorted(areas), sorted(shapely.area(geoms)))
    assert {t.object.value for t in triples if t.predicate.value.endswith("dim")} == {"2"}
    wkts = [t.object.value for t in triples if t.predicate.value.endswith("asWKT")]
    assert all(w.startswith("<http://www.opengis.net/def/crs/EPSG/0/25832> POLYGON") for w in wkts)


def test_missing_column_names_map_and_columns(tmp_path):
    m = _csv(tmp_path, ["1,a,POINT (1 2)\n"], CSV_MAP.replace('"name"', '"nmae"'))
    with pytest.raises(EolinkedError) as err:
        transform(str(m), str(tmp_path / "out.nt"))
    assert "nmae" in str(err.value) and "P" in str(err.value) and "id, name, wkt" in str(err.value)
    assert not (tmp_path / "out.nt").exists()


def test_syntax_error_names_line(tmp_path):
    (tmp_path / "map.ttl").write_text(PREFIXES + "\n<#P> rml:logicalSource [ rml:source \"x.csv\" \n ;; ] .\n")
    with pytest.raises(EolinkedError) as err:
        transform(str(tmp_path / "map.ttl"), str(tmp_path / "out.nt"))
    assert "map.ttl:" in str(err.value)


def test_missing_source(tmp_path):
    (tmp_path / "map.ttl").write_text(CSV_MAP)
    with pytest.raises(EolinkedError, match="source file not found"):
        transform(str(tmp_path / "map.ttl"), str(tmp_path / "out.nt"))


def test_source_override(tmp_path):
    m = _csv(tmp_path, ["1,a,POINT (1 2)\n"])
    other = tmp_path / "other.csv"
    other.write_text("id,name,wkt\n7,b,POINT (3 4)\n")
    transform(str(m), str(tmp_path / "out.nt"), overrides={"parcels": str(other)})
    assert "parcel/7" in (tmp_path / "out.nt").read_text()


def test_invalid_geometry_policies(tmp_path):
    bowtie = '"POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"'
    m = _csv(tmp_path, ["1,a,POINT (1 2)\n", f"2,b,{bowtie}\n"])
    with pytest.raises(EolinkedError, match="record 2"):
        transform(str(m), str(tmp_path / "out.nt"), invalid="fail")
    assert not (tmp_path / "out.nt").exists()
    s = transform(str(m), str(tmp_path / "skip.nt"), invalid="skip")
    assert s.report["skip"] == 1 and (tmp_path / "skip.nt").read_text().count("asWKT") == 1
    s = transform(str(m), str(tmp_path / "repair.nt"), invalid="repair")
    wkts = [t.object.value for t in _triples(tmp_path / "repair.nt") if t.predicate.value.endswith("asWKT")]
    assert s.report["repair"] == 1 and all(shapely.is_valid(g) for g in parse_wkt_literals(wkts)[0])


def test_invalid_wkt_is_reported(tmp_path):
    m = _csv(tmp_path, ["1,a,POINT (1 2)\n", "2,b,POINT (1\n"])
    with pytest.raises(EolinkedError, match="invalid WKT"):
        transform(str(m), str(tmp_path / "out.nt"))


def test_undecodable_csv_line(tmp_path):
    (tmp_path / "parcels.csv").write_bytes(b"id,name,wkt\n1,a,POINT (1 2)\n2,\xff\xfe,POINT (1 2)\n")
    (tmp_path / "map.ttl").write_text(CSV_MAP)
    with pytest.raises(EolinkedError, match="line 3 cannot be decoded"):
        transform(str(tmp_path / "map.ttl"), str(tmp_path / "out.nt"))


def test_geotriples_row_id(tmp_path):
    mapping = CSV_MAP.replace("parcel/{id}", "parcel/{GeoTriplesID}")
    m = _csv(tmp_path, ["7,a,POINT (1 2)\n", "9,b,POINT (3 4)\n"], mapping)
    transform(str(m), str(tmp_path / "out.nt"))
    text = (tmp_path / "out.nt").read_text()
    assert "parcel/1>" in text and "parcel/2>" in text and "parcel/7>" not in text


GEOJSON_MAP = PREFIXES + """
<#F> rml:logicalSource [ rml:source "{src}" ; rml:referenceFormulation ql:JSONPath ; rml:iterator "{it}" ] ;
  rr:subjectMap [ rr:template "http://example.com/f/{{$.properties.id}}" ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "$.geometry" ] ) ] ] .
"""


@pytest.mark.parametrize("kind", ["collection", "sequence"])
def test_geojson_through_jsonpath(tmp_path, kind):
    features = [{"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": [i, 2 * i]}}
                for i in range(3)]
    if kind == "collection":
        (tmp_path / "f.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        src, it = "f.geojson", "$.features[*]"
    else:  # RFC 8142 GeoJSON text sequence: each record starts with RS
        (tmp_path / "f.geojsons").write_text("".join("\x1e" + json.dumps(f) + "\n" for f in features))
        src, it = "f.geojsons", "$"
    (tmp_path / "m.ttl").write_text(GEOJSON_MAP.format(src=src, it=it))
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    wkts = sorted(t.object.value for t in _triples(tmp_path / "out.nt"))
    assert wkts == ["POINT (0 0)", "POINT (1 2)", "POINT (2 4)"]


def test_error_in_a_worker_leaves_nothing(tmp_path):
    rows = [f"{i},n,POINT ({i} 1)\n" for i in range(9000)] + ["9000,n,POINT (1\n"]
    m = _csv(tmp_path, rows)
    with pytest.raises(EolinkedError, match="invalid WKT"):
        transform(str(m), str(tmp_path / "out.nt"), processes=2, batch_size=500)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.ttl", "parcels.csv"]


def test_two_joins_to_the_same_parent(tmp_path):
    (tmp_path / "people.csv").write_text("id,home,work\n1,A,Beta\n2,B,Beta\n")  # work names the place
    (tmp_path / "places.csv").write_text("code,name\nA,Alpha\nB,Beta\n")
    join = """rr:objectMap [ rr:parentTriplesMap <#Place> ; rr:joinCondition [ rr:child "{col}" ; rr:parent "{key}" ] ]"""
    (tmp_path / "m.ttl").write_text(PREFIXES + f"""
<#Person> rml:logicalSource [ rml:source "people.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/person/{{id}}" ] ;
  rr:predicateObjectMap [ rr:predicate ex:home ; {join.format(col="home", key="code")} ] ;
  rr:predicateObjectMap [ rr:predicate ex:work ; {join.format(col="work", key="name")} ] .
<#Place> rml:logicalSource [ rml:source "places.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/place/{{name}}" ] .
""")
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    links = sorted((t.subject.value[-1], t.predicate.value.rsplit("#")[1], t.object.value.rsplit("/")[-1])
                   for t in _triples(tmp_path / "out.nt"))
    assert links == [("1", "home", "Alpha"), ("1", "work", "Beta"), ("2", "home", "Beta"), ("2", "work", "Beta")]
