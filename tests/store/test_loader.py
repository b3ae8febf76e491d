"""store.loader: formats, graphs, append, de-duplication, atomic versions, skip reports, geometries, stats."""
import gzip
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from eolinked.errors import EolinkedError
from store import layout
from store.loader import load

EX = "http://example.org/"
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
XSD = "http://www.w3.org/2001/XMLSchema#"
NT = (f'<{EX}a> <{EX}p> <{EX}b> .\n'
      f'<{EX}a> <{EX}name> "A \\u0041\\n"@EN .\n'
      f'<{EX}b> <{EX}n> "42"^^<{XSD}int> .\n'
      f'_:x <{EX}p> "POINT (1 2)"^^<{WKT}> .\n')


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def quads(store):
    """All stored quads as a set of (s, p, o, g) N-Triples strings."""
    v = layout.open_version(store)
    nt = pq.read_table(v.terms, columns=["nt"]).column("nt").to_pylist()
    out = set()
    for pid, path in v.tables.items():
        t = pq.read_table(path)
        for s, o, g in zip(*(t.column(c).to_pylist() for c in ("s", "o", "g"))):
            out.add((nt[s], nt[pid], nt[o], None if g is None else nt[g]))
    t = pq.read_table(v.rest)
    for s, p, o, g in zip(*(t.column(c).to_pylist() for c in ("s", "p", "o", "g"))):
        out.add((nt[s], nt[p], nt[o], None if g is None else nt[g]))
    return out


def strip_blanks(qs):
    return {tuple("_:" if t and t.startswith("_:") else t for t in q) for q in qs}


EXPECTED = {(f"<{EX}a>", f"<{EX}p>", f"<{EX}b>", None),
            (f"<{EX}a>", f"<{EX}name>", '"A A\\n"@en', None),
            (f"<{EX}b>", f"<{EX}n>", f'"42"^^<{XSD}int>', None),
            ("_:", f"<{EX}p>", f'"POINT (1 2)"^^<{WKT}>', None)}

TTL = f"""@prefix ex: <{EX}> .
@prefix xsd: <{XSD}> .
ex:a ex:p ex:b ; ex:name "A A\\n"@en .
ex:b ex:n "42"^^xsd:int .
[] ex:p "POINT (1 2)"^^<{WKT}> .
"""
RDFXML = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">
  <rdf:Description rdf:about="{EX}a"><ex:p rdf:resource="{EX}b"/><ex:name xml:lang="en">A A
</ex:name></rdf:Description>
  <rdf:Description rdf:about="{EX}b"><ex:n rdf:datatype="{XSD}int">42</ex:n></rdf:Description>
  <rdf:Description><ex:p rdf:datatype="{WKT}">POINT (1 2)</ex:p></rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize("name,text", [("d.nt", NT), ("d.nq", NT), ("d.ttl", TTL), ("d.trig", TTL),
                                       ("d.rdf", RDFXML), ("d.owl", RDFXML), ("d.xml", RDFXML)])
def test_formats(tmp_path, name, text):
    summary = load(tmp_path / "st", [write(tmp_path / name, text)], progress=False)
    assert summary.triples == 4 and summary.total == 4 and summary.duplicates == 0
    assert strip_blanks(quads(tmp_path / "st")) == EXPECTED


def test_gzip(tmp_path):
    path = tmp_path / "d.nt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(NT)
    load(tmp_path / "st", [path], progress=True)
    assert strip_blanks(quads(tmp_path / "st")) == EXPECTED


def test_parquet_triples(tmp_path):
    path = tmp_path / "part-00000.parquet"
    pq.write_table(pa.table({"s": [f"<{EX}a>", "_:b1"], "p": [f"<{EX}p>", f"<{EX}p>"],
                             "o": ['"x"@en', f"<{EX}c>"], "g": [None, f"<{EX}g>"]}), path)
    load(tmp_path / "st", [path], progress=False)
    assert strip_blanks(quads(tmp_path / "st")) == {(f"<{EX}a>", f"<{EX}p>", '"x"@en', None),
                                                    ("_:", f"<{EX}p>", f"<{EX}c>", f"<{EX}g>")}


def test_named_graphs_and_blank_nodes_per_file(tmp_path):
    nq = write(tmp_path / "d.nq", f'<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n<{EX}a> <{EX}p> "o" .\n'
                                  f'_:x <{EX}p> "v w <x>" <{EX}g1> .\n')
    nt1 = write(tmp_path / "one.nt", f"_:x <{EX}p> <{EX}b> .\n")
    nt2 = write(tmp_path / "two.nt", f"_:x <{EX}p> <{EX}b> .\n")
    load(tmp_path / "st", [nq], progress=False)
    got = quads(tmp_path / "st")
    assert (f"<{EX}a>", f"<{EX}p>", f"<{EX}b>", f"<{EX}g1>") in got
    assert (f"<{EX}a>", f"<{EX}p>", '"o"', None) in got
    assert ("_:", f"<{EX}p>", '"v w <x>"', f"<{EX}g1>") in strip_blanks(got)
    load(tmp_path / "st2", [nt1, nt2], graph=f"{EX}g2", progress=False)
    got = quads(tmp_path / "st2")
    assert len(got) == 2 and {q[3] for q in got} == {f"<{EX}g2>"}  # two distinct blank nodes
    v = layout.open_version(tmp_path / "st2")
    nt = pq.read_table(v.terms, columns=["nt"]).column("nt").to_pylist()
    assert [nt[g] for g in v.stats["graphs"]] == [f"<{EX}g2>"]


def test_duplicates(tmp_path):
    a = write(tmp_path / "a.nt", NT.split("_:")[0] * 3)
    s = load(tmp_path / "st", [a, a], progress=False)
    assert (s.triples, s.duplicates, s.total) == (3, 15, 3)


def test_append_keeps_ids(tmp_path):
    big = "".join(f"<{EX}s{i}> <{EX}big> <{EX}o{i % 7}> .\n" for i in range(1500))
    load(tmp_path / "st", [write(tmp_path / "a.nt", big + NT)], progress=False)
    v1 = layout.open_version(tmp_path / "st")
    terms1 = pq.read_table(v1.terms, columns=["id", "nt"])
    big_pid = terms1.column("nt").to_pylist().index(f"<{EX}big>")
    assert big_pid in v1.tables and v1.tables[big_pid].name == f"p{big_pid}.parquet"
    s = load(tmp_path / "st", [write(tmp_path / "b.nt", f'<{EX}a> <{EX}p> <{EX}b> .\n<{EX}new> <{EX}p> "n" .\n')],
             append=True, progress=False)
    assert (s.triples, s.duplicates, s.total) == (1, 1, 1505)
    v2 = layout.open_version(tmp_path / "st")
    assert v2.name != v1.name and not v1.root.exists() and layout.versions(tmp_path / "st") == [v2.name]
    terms2 = pq.read_table(v2.terms, columns=["id", "nt"])
    assert terms2.slice(0, terms1.num_rows).equals(terms1)
    assert terms2.column("id").to_pylist() == list(range(terms2.num_rows))
    assert (f"<{EX}new>", f"<{EX}p>", '"n"', None) in quads(tmp_path / "st")
    assert os.stat(v2.tables[big_pid]).st_nlink == 1  # the old version's link is gone with it
    assert v2.stats["predicates"][str(big_pid)] == v1.stats["predicates"][str(big_pid)]


def test_replace_without_append(tmp_path):
    load(tmp_path / "st", [write(tmp_path / "a.nt", NT)], progress=False)
    load(tmp_path / "st", [write(tmp_path / "b.nt", f"<{EX}x> <{EX}y> <{EX}z> .\n")], progress=False)
    assert quads(tmp_path / "st") == {(f"<{EX}x>", f"<{EX}y>", f"<{EX}z>", None)}


def test_bad_file_leaves_store_intact(tmp_path):
    store = tmp_path / "st"
    load(store, [write(tmp_path / "a.nt", NT)], progress=False)
    before = quads(store)
    bad = write(tmp_path / "bad.nt", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> oops .\n")
    for append in (False, True):
        with pytest.raises(EolinkedError) as err:
            load(store, [write(tmp_path / "ok.nt", NT), bad], append=append, progress=False)
        assert "bad.nt:2" in str(err.value) and "on_error='skip'" in str(err.value)
        assert quads(store) == before
        assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == ["CURRENT", "v0001"]


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(EolinkedError, match="extension"):
        load(tmp_path / "st", [write(tmp_path / "a.txt", NT)], progress=False)
    with pytest.raises(EolinkedError, match="not found"):
        load(tmp_path / "st", [tmp_path / "nope.nt"], progress=False)


def test_skip_mode_report(tmp_path):
    nt = write(tmp_path / "a.nt", f"<{EX}a> <{EX}p> <{EX}b> .\nbroken line\n<{EX}c> <{EX}p> <{EX}d> .\n"
                                  f"<{EX}e> <{EX}p> bad .\n<{EX}f> <{EX}p> <{EX}g> .\n")
    ttl = write(tmp_path / "b.ttl", f"<{EX}t> <{EX}p> <{EX}u> .\n<{EX}t> <{EX}p> ;; .\n<{EX}v> <{EX}p> <{EX}w> .\n")
    s = load(tmp_path / "st", [nt, ttl], on_error="skip", progress=False)
    assert s.skipped == 3 and s.triples == 4
    report = Path(s.report).read_text(encoding="utf-8")
    assert f"{nt}:2:" in report and f"{nt}:4:" in report
    assert f"{ttl}:2:" in report and "rest of this file was skipped" in report
    subjects = {q[0] for q in quads(tmp_path / "st")}
    assert subjects == {f"<{EX}a>", f"<{EX}c>", f"<{EX}f>", f"<{EX}t>"}


def test_invalid_wkt_stays_literal(tmp_path):
    nt = write(tmp_path / "a.nt", f'<{EX}g1> <{EX}wkt> "POINT (1 2"^^<{WKT}> .\n'
                                  f'<{EX}g2> <{EX}wkt> "POINT (3 4)"^^<{WKT}> .\n')
    s = load(tmp_path / "st", [nt], progress=False)
    assert s.invalid_geometries == 1 and s.triples == 2
    assert "POINT (1 2" in Path(s.report).read_text(encoding="utf-8")
    v = layout.open_version(tmp_path / "st")
    nt_col = pq.read_table(v.terms, columns=["nt"]).column("nt").to_pylist()
    geoms = pq.read_table(v.geometries)
    assert [nt_col[i] for i in geoms.column("id").to_pylist()] == [f'"POINT (3 4)"^^<{WKT}>']
    assert f'"POINT (1 2"^^<{WKT}>' in {q[2] for q in quads(tmp_path / "st")}


def test_crs84_bbox_of_epsg4326(tmp_path):
    lit = "<http://www.opengis.net/def/crs/EPSG/0/4326> POLYGON ((38 23, 38 24, 39 24, 38 23))"
    nt = write(tmp_path / "a.nt", f'<{EX}g> <{EX}wkt> "{lit}"^^<{WKT}> .\n')
    load(tmp_path / "st", [nt], progress=False)
    row = pq.read_table(layout.open_version(tmp_path / "st").geometries).to_pylist()[0]
    assert row["crs"] == "http://www.opengis.net/def/crs/EPSG/0/4326"
    assert (row["minx"], row["miny"], row["maxx"], row["maxy"]) == (23.0, 38.0, 24.0, 39.0)
    assert shapely.from_wkb(row["wkb84"]).equals(shapely.from_wkt("POLYGON ((23 38, 24 38, 24 39, 23 38))"))


def test_typed_columns(tmp_path):
    lits = [f'"7"^^<{XSD}integer>', f'" 2.5 "^^<{XSD}decimal>', f'"1e3"^^<{XSD}double>', f'"300"^^<{XSD}byte>',
            f'"x"^^<{XSD}integer>', f'"true"^^<{XSD}boolean>', f'"0"^^<{XSD}boolean>',
            f'"2020-01-02T03:04:05.5+01:00"^^<{XSD}dateTime>', f'"2020-01-02"^^<{XSD}date>']
    nt = write(tmp_path / "a.nt", "".join(f"<{EX}s> <{EX}p{i}> {lit} .\n" for i, lit in enumerate(lits)))
    load(tmp_path / "st", [nt], progress=False)
    t = pq.read_table(layout.open_version(tmp_path / "st").terms).to_pylist()
    by = {r["nt"]: r for r in t}
    assert [by[lit]["num"] for lit in lits[:5]] == [7.0, 2.5, 1000.0, None, None]
    assert by[lits[5]]["bool"] is True and by[lits[6]]["bool"] is False
    assert by[lits[7]]["ts"].isoformat() == "2020-01-02T02:04:05.500000+00:00"
    assert by[lits[8]]["ts"].isoformat() == "2020-01-02T00:00:00+00:00"


def test_stats(tmp_path):
    rows = "".join(f'<{EX}s{i}> <{EX}v> "{i % 10}"^^<{XSD}integer> .\n' for i in range(1200))
    rows += f"<{EX}a> <{EX}small> <{EX}b> .\n<{EX}a> <{EX}small> <{EX}b> <{EX}g> .\n"
    load(tmp_path / "st", [write(tmp_path / "a.nq", rows)], progress=False)
    v = layout.open_version(tmp_path / "st")
    nt = pq.read_table(v.terms, columns=["nt"]).column("nt").to_pylist()
    st = v.stats
    assert st["triples"] == 1202 and st["terms"] == len(nt)
    vp, small = str(nt.index(f"<{EX}v>")), str(nt.index(f"<{EX}small>"))
    e = st["predicates"][vp]
    assert e["table"] == f"quads/p{vp}.parquet" and e["count"] == 1200
    assert (e["distinct_s"], e["distinct_o"]) == (1200, 10)
    assert len(e["top_o"]) == 10 and all(c == 120 for _, c in e["top_o"])
    assert sum(e["num_hist"]["counts"]) == 1200 and e["num_hist"]["bounds"][0] == 0.0
    assert e["num_hist"]["bounds"][-1] == 9.0
    assert st["predicates"][small]["table"] == "quads/rest.parquet" and st["predicates"][small]["count"] == 2
    assert [nt[g] for g in st["graphs"]] == [f"<{EX}g>"]
    assert v.table_of(int(small)) == v.rest


def test_many_batches_match_one(tmp_path):
    rows = "".join(f'<{EX}s{i % 300}> <{EX}p{i % 3}> "{i % 500}" .\n' for i in range(3000))
    path = write(tmp_path / "a.nt", rows)
    one = load(tmp_path / "one", [path], progress=False)
    many = load(tmp_path / "many", [path], progress=False, batch_size=97)
    assert (one.total, one.duplicates) == (many.total, many.duplicates)
    assert quads(tmp_path / "one") == quads(tmp_path / "many")


# -- one canonical form of every term, whatever the input format ---------------------------------
SPARK_NT = (f'<{EX}a> <{EX}name> "x"^^<{XSD}string> .\n'
            f'<{EX}a> <{EX}label> "Gr\\u00FCn \\"q\\"\\t"@DE-at .\n'
            f'<{EX}caf\\u00E9> <{EX}p> "a\\u000Bb\\U0001F600" .\n'
            f'<{EX}a> <{EX}n> "042"^^<{XSD}integer> .\n'
            f'<{EX}a> <{EX}w> "POINT (1 2)"^^<{WKT}> .\n')
SPARK_TTL = f"""@prefix ex: <{EX}> .
@prefix xsd: <{XSD}> .
ex:a ex:name "x"^^xsd:string ; ex:label 'Gr\\u00fcn "q"\t'@de-AT ; ex:n "042"^^xsd:integer ;
  ex:w "POINT (1 2)"^^<{WKT}> .
<{EX}café> ex:p \"\"\"a\x0bb\U0001F600\"\"\" .
"""
CANONICAL = {(f"<{EX}a>", f"<{EX}name>", '"x"', None),
             (f"<{EX}a>", f"<{EX}label>", '"Grün \\"q\\"\\t"@de-at', None),
             (f"<{EX}café>", f"<{EX}p>", '"a\\u000Bb\U0001F600"', None),
             (f"<{EX}a>", f"<{EX}n>", f'"042"^^<{XSD}integer>', None),
             (f"<{EX}a>", f"<{EX}w>", f'"POINT (1 2)"^^<{WKT}>', None)}


def _parquet_of(path, nt_text, graph=None):
    """The Spark transformer's Parquet triples of N-Triples text: the terms as written."""
    rows = [line[:-2].split(" ", 2) for line in nt_text.splitlines()]
    pq.write_table(pa.table({"s": [r[0] for r in rows], "p": [r[1] for r in rows], "o": [r[2] for r in rows],
                             "g": [graph] * len(rows)}), path)
    return path


def _terms(store):
    return set(pq.read_table(layout.open_version(store).terms, columns=["nt"]).column("nt").to_pylist())


def test_parquet_terms_are_canonical_like_text_formats(tmp_path):
    nt = write(tmp_path / "d.nt", SPARK_NT)
    ttl = write(tmp_path / "d.ttl", SPARK_TTL)
    par = _parquet_of(tmp_path / "d.parquet", SPARK_NT)
    for name, src in (("nt", nt), ("ttl", ttl), ("parquet", par)):
        load(tmp_path / name, [src], progress=False)
        assert quads(tmp_path / name) == CANONICAL, name
    assert _terms(tmp_path / "nt") == _terms(tmp_path / "ttl") == _terms(tmp_path / "parquet")
    # one store, all three inputs: no duplicates in two spellings
    s = load(tmp_path / "all", [nt, ttl, par], progress=False)
    assert (s.total, s.duplicates) == (5, 10)
    assert quads(tmp_path / "all") == CANONICAL


def test_plain_literal_pattern_finds_parquet_triples(tmp_path):
    from store import Store

    load(tmp_path / "st", [_parquet_of(tmp_path / "d.parquet", SPARK_NT), write(tmp_path / "d.nt", SPARK_NT)],
         progress=False)
    st = Store(tmp_path / "st")
    for lit in ('"x"', f'"x"^^<{XSD}string>'):
        res = st.query(f"SELECT ?s WHERE {{ ?s <{EX}name> {lit} }}")
        assert res.table.column("s").to_pylist() == [f"<{EX}a>"]
    res = st.query(f'SELECT ?s WHERE {{ ?s <{EX}label> "Grün \\"q\\"\\t"@de-AT }}')
    assert res.table.column("s").to_pylist() == [f"<{EX}a>"]


def test_parquet_blank_nodes_and_graphs(tmp_path):
    text = f"_:x <{EX}p> _:y .\n_:y <{EX}p> <{EX}b> .\n"
    one = _parquet_of(tmp_path / "one.parquet", text, f"<{EX}g>")
    two = _parquet_of(tmp_path / "two.parquet", text)
    load(tmp_path / "st", [one, two], progress=False, batch_size=1)
    got = quads(tmp_path / "st")
    assert len(got) == 4 and len({q[0] for q in got}) == 4  # labels shared across batches, not across files
    chain = {q[0]: q[2] for q in got if q[2].startswith("_:")}
    assert all(any(q[0] == o for q in got) for o in chain.values())
    assert {q[3] for q in got} == {None, f"<{EX}g>"}


DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.skipif(not (DATA / "crops").is_dir(), reason="../shared/data is not there (CI has it)")
def test_real_transform_output_same_store_from_nt_ttl_parquet(tmp_path):
    import pyoxigraph as ox

    from eolinked.spark import split_terms
    from geotriples import generate_mapping, transform
    from store import Store

    generate_mapping(str(DATA / "crops/at/INSPIRE_SCHLAEGE_2025-1_POLYGON.gpkg"), str(tmp_path / "m.ttl"))
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    text = (tmp_path / "out.nt").read_text(encoding="utf-8")
    assert f"^^<{XSD}string>" in text  # the transformer writes xsd:string, as the Spark job does
    batch = pa.RecordBatch.from_arrays([pa.array(text.splitlines())], ["value"])
    pq.write_table(pa.Table.from_batches(list(split_terms([batch]))), tmp_path / "out.parquet")
    with open(tmp_path / "out.ttl", "wb") as f:
        ox.serialize(ox.parse(path=str(tmp_path / "out.nt"), format=ox.RdfFormat.N_TRIPLES), f,
                     format=ox.RdfFormat.TURTLE)
    stores = {}
    for ext in ("nt", "ttl", "parquet"):
        load(tmp_path / ext, [tmp_path / f"out.{ext}"], progress=False)
        stores[ext] = quads(tmp_path / ext)
    assert stores["nt"] == stores["ttl"] == stores["parquet"]
    assert len(stores["nt"]) == len(text.splitlines())
    assert not any(f"^^<{XSD}string>" in q[2] for q in stores["parquet"])
    s = load(tmp_path / "all", [tmp_path / "out.nt", tmp_path / "out.parquet"], progress=False)
    assert s.total == len(stores["nt"])  # no triple stored twice in two spellings
    name = next(q for q in stores["nt"] if q[2].startswith('"') and "^^" not in q[2] and "@" not in q[2])
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s {name[1]} {name[2]} }}"
    counts = {ext: Store(tmp_path / ext).query(query).table.column("n").to_pylist() for ext in stores}
    assert counts["nt"] == counts["ttl"] == counts["parquet"] and counts["nt"] != ['"0"^^<{XSD}integer>']


# -- Spark output directories ---------------------------------------------------------------------
def test_spark_output_directories(tmp_path):
    lines = NT.splitlines(keepends=True)
    out_nt = tmp_path / "out.nt"
    out_nt.mkdir()
    write(out_nt / "part-00000.nt", "".join(lines[:2]))
    with gzip.open(out_nt / "part-00001.nt.gz", "wt", encoding="utf-8") as f:
        f.write("".join(lines[2:]))
    (out_nt / "_SUCCESS").write_bytes(b"")
    (out_nt / ".part-00000.nt.crc").write_bytes(b"\x00")
    load(tmp_path / "st", [out_nt], progress=False)
    assert strip_blanks(quads(tmp_path / "st")) == EXPECTED
    # Spark's own text writer: part-*.txt(.gz); the directory's name gives the format
    raw = tmp_path / "raw.nq"
    raw.mkdir()
    write(raw / "part-00000-0a1b-c000.txt", "".join(lines[:2]))
    with gzip.open(raw / "part-00001-0a1b-c000.txt.gz", "wt", encoding="utf-8") as f:
        f.write("".join(lines[2:]))
    load(tmp_path / "st2", [raw], progress=False)
    assert strip_blanks(quads(tmp_path / "st2")) == EXPECTED
    par = tmp_path / "parcels.parquet"
    par.mkdir()
    _parquet_of(par / "part-00000-x.snappy.parquet", "".join(lines[:3]))
    _parquet_of(par / "part-00001-x.snappy.parquet", SPARK_NT)
    (par / "_SUCCESS").write_bytes(b"")
    s = load(tmp_path / "st3", [par], progress=False)
    assert s.total == 3 + 5
    empty = tmp_path / "empty.nt"
    empty.mkdir()
    (empty / "_SUCCESS").write_bytes(b"")
    with pytest.raises(EolinkedError, match="no part"):
        load(tmp_path / "st4", [empty], progress=False)


# -- skipping exactly the malformed statements ---------------------------------------------------
GOOD = [f'<{EX}s{i}> <{EX}p> "v{i}" .' for i in range(8)]
BAD = {"unterminated": f'<{EX}u> <{EX}p> "no end .',
       "missing_dot": f'<{EX}m> <{EX}p> <{EX}o>',
       "bad_iri": f'<{EX}i> <{EX}p> <not an iri> .',
       "relative_iri": f'<{EX}i> <{EX}p> <rel> .',
       "bad_escape": f'<{EX}e> <{EX}p> "a\\qb" .',
       "bad_lang": f'<{EX}l> <{EX}p> "x"@-en .',
       "two_triples": f'<{EX}t> <{EX}p> <{EX}o> . <{EX}t> <{EX}p> <{EX}o2> .',
       "literal_subject": f'"s" <{EX}p> <{EX}o> .',
       "unterminated_iri": f'<{EX}v> <{EX}p> <{EX}o .'}


def _mixed(order):
    """Lines with bad ones at the positions given; returns the text, bad line numbers and good subjects."""
    lines, bad, good = [], [], set()
    g = iter(GOOD * 10)
    for kind in order:
        if kind == "good":
            line = next(g)
            good.add(line.split(" ")[0])
        else:
            line = BAD[kind]
            bad.append(len(lines) + 1)
        lines.append(line)
    return lines, bad, good


CASES = {
    "each_kind_between_good": [k for kind in BAD for k in ("good", kind)] + ["good"],
    "bad_in_a_row": ["good", "unterminated", "missing_dot", "bad_escape", "good", "good"],
    "bad_first_and_last": ["missing_dot", "good", "comment", "good", "bad_escape"],
    "unterminated_before_many": ["good", "unterminated"] + ["good"] * 7,
    "missing_dot_at_end": ["good", "good", "missing_dot"],
    "only_bad": ["unterminated", "missing_dot"],
}
BAD["comment"] = "# a comment line"


@pytest.mark.parametrize("newline_at_end", [True, False])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("batch", [500_000, 2])
def test_skip_exactly_the_bad_lines(tmp_path, case, newline_at_end, batch):
    order = CASES[case]
    lines, bad, good = _mixed(order)
    bad = [n for n, k in zip(range(1, len(order) + 1), order) if k not in ("good", "comment")]
    text = "\n".join(lines) + ("\n" if newline_at_end else "")
    for ext in ("nt", "nq"):
        path = write(tmp_path / f"m.{ext}", text)
        s = load(tmp_path / f"st{ext}", [path], on_error="skip", progress=False, batch_size=batch)
        assert {q[0] for q in quads(tmp_path / f"st{ext}")} == good
        assert s.skipped == len(bad)
        report = Path(s.report).read_text(encoding="utf-8").splitlines()
        named = sorted(int(r[len(str(path)) + 1:].split(":")[0]) for r in report if r.startswith(f"{path}:"))
        assert named == bad
        if bad:
            with pytest.raises(EolinkedError) as err:
                load(tmp_path / f"fail{ext}", [path], progress=False, batch_size=batch)
            assert str(err.value).startswith(f"{path}:{bad[0]}: ")


def test_skip_report_messages(tmp_path):
    path = write(tmp_path / "m.nt", "\n".join([GOOD[0], BAD["unterminated"], GOOD[1], BAD["missing_dot"], GOOD[2],
                                              BAD["bad_escape"]]))
    s = load(tmp_path / "st", [path], on_error="skip", progress=False)
    report = Path(s.report).read_text(encoding="utf-8")
    assert f"{path}:2: column " in report and "unterminated" in report
    assert f"{path}:4: column " in report and "dot" in report
    assert f"{path}:6: column " in report and "escape" in report
    with pytest.raises(EolinkedError) as err:
        load(tmp_path / "st2", [path], progress=False)
    assert f"{path}:2: column" in str(err.value) and "on_error='skip'" in str(err.value)


def test_parquet_rows_named(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"s": [f"<{EX}a>", f"<{EX}b>", "oops", f"<{EX}c>", f"<{EX}d>"],
                             "p": [f"<{EX}p>"] * 5,
                             "o": ['"x"', '"y"@-bad', '"z"', f"<rel>", '"w"@EN']}), path)
    s = load(tmp_path / "st", [path], on_error="skip", progress=False)
    assert {q[0] for q in quads(tmp_path / "st")} == {f"<{EX}a>", f"<{EX}d>"}
    report = Path(s.report).read_text(encoding="utf-8")
    assert all(f"{path}: row {n}:" in report for n in (2, 3, 4)) and f"{path}: row 1:" not in report
    with pytest.raises(EolinkedError) as err:
        load(tmp_path / "st2", [path], progress=False)
    assert f"{path}: row 2" in str(err.value)


# -- empty geometry literals (GeoSPARQL 1.1 Req 13 / 16) ---------------------------------------------
GEO = "http://www.opengis.net/ont/geosparql#"
EMPTY_LITERALS = {"g1": f'""^^<{WKT}>', "g2": f'"   "^^<{WKT}>',
                  "g3": f'"<http://www.opengis.net/def/crs/EPSG/0/4326> "^^<{WKT}>',
                  "g4": f'""^^<{GEO}gmlLiteral>', "g5": f'" \\n "^^<{GEO}geoJSONLiteral>'}


def test_empty_geometry_literals(tmp_path):
    from store import Store

    text = "".join(f"<{EX}{k}> <{GEO}asWKT> {v} .\n" for k, v in EMPTY_LITERALS.items())
    text += f'<{EX}p> <{GEO}asWKT> "POINT (1 2)"^^<{WKT}> .\n'
    s = load(tmp_path / "st", [write(tmp_path / "e.nt", text)], progress=False)
    assert s.invalid_geometries == 0 and s.report is None
    v = layout.open_version(tmp_path / "st")
    nt = pq.read_table(v.terms, columns=["nt"]).column("nt").to_pylist()
    rows = {nt[r["id"]]: r for r in pq.read_table(v.geometries).to_pylist()}
    assert len(rows) == 6 and v.stats["geometries"] == 6
    for lit in EMPTY_LITERALS.values():
        row = rows[lit]
        assert shapely.from_wkb(row["wkb"]).is_empty and shapely.from_wkb(row["wkb84"]).is_empty
        assert all(row[k] is None for k in ("minx", "miny", "maxx", "maxy"))  # no box: null
    assert rows[EMPTY_LITERALS["g3"]]["crs"] == "http://www.opengis.net/def/crs/EPSG/0/4326"
    st = Store(tmp_path / "st")
    prefix = f"PREFIX geo: <{GEO}> PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
    res = st.query(prefix + "SELECT ?f WHERE { ?f geo:asWKT ?w FILTER(geof:isEmpty(?w)) }")
    assert sorted(res.table.column("f").to_pylist()) == sorted(f"<{EX}{k}>" for k in EMPTY_LITERALS)
    box = f'"POLYGON ((0 0, 5 0, 5 5, 0 5, 0 0))"^^<{WKT}>'
    res = st.query(prefix + f"SELECT ?f WHERE {{ ?f geo:asWKT ?w FILTER(geof:sfIntersects(?w, {box})) }}")
    assert res.table.column("f").to_pylist() == [f"<{EX}p>"]
    res = st.query(prefix + f"SELECT ?f WHERE {{ ?f geo:asWKT ?w FILTER(geof:sfDisjoint(?w, {box})) }}")
    assert sorted(res.table.column("f").to_pylist()) == sorted(f"<{EX}{k}>" for k in EMPTY_LITERALS)
