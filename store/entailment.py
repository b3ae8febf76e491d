"""Entailment for a store (``Store(dir, entailment="rdfs")``): GeoSPARQL's query-rewrite rules
for the geo: relation properties (store/spatial.py) and RDFS: the closure of the store's triples (plus the GeoSPARQL class
hierarchy) under the RDFS rules for subClassOf, subPropertyOf, domain and range (rdfs2, 3, 5,
7, 9, 11), computed with Arrow joins when the store is opened and added as a table of inferred
quads.  The axiomatic triples (everything is an rdfs:Resource, ...) are left out."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyoxigraph as ox

from eolinked.vocab import RDF_TYPE, RDFS

SCHEMA = Path(__file__).with_name("geosparql_schema.ttl")
_Q = pa.schema([("s", pa.int64()), ("p", pa.int64()), ("o", pa.int64()), ("g", pa.int64())])


def materialise_rdfs(store) -> None:
    schema_nt = [(str(q.subject), str(q.predicate), str(q.object)) for q in ox.parse(path=str(SCHEMA))]
    ids = store.intern([t for triple in schema_nt for t in triple] +
                       [f"<{RDF_TYPE}>"] + [f"<{RDFS}{n}>" for n in ("subClassOf", "subPropertyOf",
                                                                    "domain", "range")])
    typ, sco, spo, dom, rng = (ids[f"<{RDF_TYPE}>"], *(ids[f"<{RDFS}{n}>"] for n in
                                                        ("subClassOf", "subPropertyOf", "domain", "range")))
    quads = store.run("SELECT s, p, o, COALESCE(g, -1) AS g FROM quads").cast(_Q)
    extra = pa.table({"s": [ids[a] for a, _, _ in schema_nt], "p": [ids[b] for _, b, _ in schema_nt],
                      "o": [ids[c] for _, _, c in schema_nt], "g": [-1] * len(schema_nt)}, schema=_Q)
    known = pa.concat_tables([quads, extra])
    literal = store.literal_mask()
    closure = _closure(known, typ, sco, spo, dom, rng, literal)
    new = closure.join(quads, keys=["s", "p", "o", "g"], join_type="left anti")
    g = pc.if_else(pc.equal(new["g"], -1), pa.scalar(None, pa.int64()), new["g"])
    store.add_inferred(pa.table([new["s"], new["p"], new["o"], g], schema=_Q))


def _pairs(t, p):
    sel = t.filter(pc.equal(t["p"], p))
    return sel.select(["s", "o"]).group_by(["s", "o"], use_threads=False).aggregate([])


def _transitive(edges: pa.Table) -> pa.Table:
    result, delta = edges, edges
    while delta.num_rows:
        step = delta.rename_columns(["s", "m"]).join(edges.rename_columns(["m", "o"]), keys="m", join_type="inner")
        step = step.select(["s", "o"]).group_by(["s", "o"], use_threads=False).aggregate([])
        delta = step.join(result, keys=["s", "o"], join_type="left anti").select(["s", "o"])
        result = pa.concat_tables([result, delta])
    return result


def _closure(t, typ, sco, spo, dom, rng, literal) -> pa.Table:
    sub_class = _transitive(_pairs(t, sco))
    sub_prop = _transitive(_pairs(t, spo))
    parts = [t, _with_p(sub_class, sco, -1), _with_p(sub_prop, spo, -1)]
    # rdfs7: x p y, p subPropertyOf q -> x q y
    sp = sub_prop.rename_columns(["p", "q"])
    inherited = t.join(sp, keys="p", join_type="inner").select(["s", "q", "o", "g"]).rename_columns(["s", "p", "o", "g"])
    facts = pa.concat_tables([t, inherited.cast(_Q)])
    # rdfs2 / rdfs3: domain and range give types
    types = [facts.filter(pc.equal(facts["p"], typ)).select(["s", "o", "g"])]
    d = _pairs(t, dom).rename_columns(["p", "c"])
    types.append(facts.join(d, keys="p", join_type="inner").select(["s", "c", "g"]).rename_columns(["s", "o", "g"]))
    r = _pairs(t, rng).rename_columns(["p", "c"])
    ranged = facts.join(r, keys="p", join_type="inner")
    ranged = ranged.filter(pc.invert(pc.take(literal, ranged["o"])))
    types.append(ranged.select(["o", "c", "g"]).rename_columns(["s", "o", "g"]))
    typed = pa.concat_tables([x.cast(pa.schema([("s", pa.int64()), ("o", pa.int64()), ("g", pa.int64())]))
                              for x in types])
    # rdfs9: x type C, C subClassOf D -> x type D
    sc = sub_class.rename_columns(["o", "d"])
    up = typed.join(sc, keys="o", join_type="inner").select(["s", "d", "g"]).rename_columns(["s", "o", "g"])
    all_types = pa.concat_tables([typed, up.cast(typed.schema)])
    parts += [inherited.cast(_Q), _with_p(all_types, typ, None)]
    out = pa.concat_tables([p.cast(_Q) for p in parts])
    return out.group_by(["s", "p", "o", "g"], use_threads=False).aggregate([])


def _with_p(t: pa.Table, p: int, g) -> pa.Table:
    n = t.num_rows
    gcol = t["g"] if g is None else pa.repeat(pa.scalar(g, pa.int64()), n)
    return pa.table([t["s"], pa.repeat(pa.scalar(p, pa.int64()), n), t["o"], gcol], schema=_Q)
