"""The GeoSPARQL Compliance Benchmark (GSB, ../shared/conformance/geosparql): runner and scorer.

The benchmark's queries use no FROM or GRAPH, so ``dataset/dataset.rdf`` is loaded into the
default graph of one store (upstream loads it into the named graph
http://openlinksw.com/geosparql/dataset.rdf of a store whose default graph is the union).
The 6 queries starting with ``# INFERENCE`` (R25 query-r25-1..3, R26 query-r26-1..2, R27
query-r27: rdf:type geo:Feature / sf:Surface / sf:Curve / gml:Surface, geo:hasGeometry,
geo:hasDefaultGeometry) need RDFS entailment (subClassOf / subPropertyOf); the subclass and
subproperty axioms they need are in dataset.rdf itself.  They run on a second store opened with
``entailment="rdfs"`` when the engine supports it (``Store(..., entailment=...)``), else on the
plain store.

A query is correct when its result, as a SPARQL-JSON tree (:func:`json_tree`), equals the tree of
the expected answer or of any alternative; bindings in order.  Literal values are normalised as
upstream: geo:wktLiteral without spaces and newlines, trimmed, lower case; geo:geoJSONLiteral
parsed as JSON; geo:gmlLiteral / geo:kmlLiteral XML C14N without comments (kept as trimmed text
when not well-formed XML, e.g. an undeclared gml: prefix).  Blank nodes compare by label (no
answer holds one).  Score: 100 × (Σ weights of correct queries + 1/30 for R17 when that sum > 0),
weights from requirements.json (exact fractions).
"""
from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pyarrow as pa

from eolinked import results
from eolinked.results import Result
from eolinked.terms import BLANK, IRI, from_nt

GSB = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "geosparql"
GEO = "http://www.opengis.net/ont/geosparql#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
R17 = Fraction(1, 30)


@dataclass
class Query:
    id: str                 # e.g. query-r19-1-2
    requirement: str        # e.g. R19
    index: int              # position in upstream GSB_QUERIES
    path: Path
    answers: list[Path]     # expected answer first, then the alternatives
    weight: Fraction
    inference: bool         # starts with "# INFERENCE"


@dataclass
class Outcome:
    query: Query
    correct: bool
    message: str = ""       # the matching answer file, or why it failed


def requirements() -> dict:
    return json.loads((GSB / "requirements.json").read_text())


def queries() -> list[Query]:
    """The 206 benchmark queries in upstream order ([] when ../shared is absent)."""
    if not GSB.is_dir():
        return []
    out = []
    for req, spec in requirements()["requirements"].items():
        for q in spec["queries"]:
            path = GSB / "queries" / q["query"]
            out.append(Query(q["id"], req, q["index"], path,
                             [GSB / "answers" / a for a in [q["answer"], *q["alternatives"]]],
                             Fraction(q["weight_fraction"]),
                             path.read_text(encoding="utf-8").lstrip().startswith("# INFERENCE")))
    return sorted(out, key=lambda q: q.index)


# ---------------------------------------------------------------- comparison

def _norm_value(value: str, datatype: str | None):
    if datatype == GEO + "wktLiteral":
        return value.replace(" ", "").replace("\n", "").strip().lower()
    if datatype == GEO + "geoJSONLiteral":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if datatype in (GEO + "gmlLiteral", GEO + "kmlLiteral"):
        try:
            return ET.canonicalize(value.strip(), with_comments=False)
        except ET.ParseError:
            return value.strip()
    return value


def json_tree(res: Result) -> dict:
    """The result as a SPARQL-JSON tree with normalised literal values."""
    if res.kind == "ask":
        return {"head": {}, "boolean": bool(res.boolean)}
    if res.kind != "select":
        return {"graph": sorted(map(tuple, zip(*(res.table.column(c).to_pylist() for c in ("s", "p", "o")))))}
    n = res.table.num_rows if res.table is not None else 0
    cols = {}
    for v in res.variables:
        col = res.table.column(v) if v in res.table.column_names else pa.nulls(n, pa.string())
        t = from_nt(col.cast(pa.string()))
        cols[v] = list(zip(t.kind.to_pylist(), t.value.to_pylist(), t.datatype.to_pylist(), t.lang.to_pylist()))
    bindings = []
    for i in range(n):
        row = {}
        for v, terms in cols.items():
            kind, value, dt, lang = terms[i]
            if kind is None:
                continue
            if kind in (IRI, BLANK):
                row[v] = {"type": "uri" if kind == IRI else "bnode", "value": value}
                continue
            node = {"type": "literal", "value": _norm_value(value, dt)}
            if lang:
                node["xml:lang"] = lang
            elif dt not in (None, XSD_STRING, RDF_LANG_STRING):
                node["datatype"] = dt
            row[v] = node
        bindings.append(row)
    return {"head": {"vars": list(res.variables)}, "results": {"bindings": bindings}}


def check(q: Query, res: Result) -> Outcome:
    """Is ``res`` the expected answer of ``q`` or one of its alternatives?"""
    got = json_tree(res)
    for path in q.answers:
        if json_tree(results.read(path.read_bytes(), "xml")) == got:
            return Outcome(q, True, path.name)
    want = json_tree(results.read(q.answers[0].read_bytes(), "xml"))
    return Outcome(q, False, f"expected {_short(want)}\n  got {_short(got)}")


def _short(tree: dict) -> str:
    text = json.dumps(tree.get("results", tree), ensure_ascii=False)
    return text if len(text) < 600 else text[:600] + "..."


# ---------------------------------------------------------------- running and scoring

def run(engine, workdir: Path | str | None = None, only: list[str] | None = None) -> list[Outcome]:
    """Run the benchmark queries (all, or the ids in ``only``) on ``engine`` (see tests.store.w3c)."""
    with tempfile.TemporaryDirectory(prefix="gsb-") as tmp:
        base = Path(workdir or tmp)
        data = [(GSB / "dataset" / "dataset.rdf", None)]
        sessions: dict[bool, object] = {}
        out = []
        try:
            for q in queries():
                if only and q.id not in only:
                    continue
                rdfs = q.inference and getattr(engine, "entailment", False)
                if rdfs not in sessions:
                    d = base / ("rdfs" if rdfs else "plain")
                    d.mkdir(parents=True, exist_ok=True)
                    sessions[rdfs] = engine.open(d, data, entailment="rdfs" if rdfs else None)
                try:
                    res = sessions[rdfs].query(q.path.read_text(encoding="utf-8"), base=q.path.as_uri())
                except Exception as exc:  # noqa: BLE001 - every failure is a wrong answer
                    out.append(Outcome(q, False, f"{type(exc).__name__}: {exc}"))
                    continue
                out.append(check(q, res))
                if q.inference and not rdfs:
                    out[-1].message += " (engine has no RDFS entailment)"
        finally:
            for s in sessions.values():
                s.close()
    return out


def score(outcomes: list[Outcome]) -> dict:
    """Correct answers, the weighted compliance percentage and per-requirement figures."""
    reqs = requirements()["requirements"]
    per = {r: {"correct": 0, "queries": len(spec["queries"]), "points": Fraction(0),
               "weight": Fraction(spec["total_weight_fraction"])} for r, spec in reqs.items()}
    for o in outcomes:
        if o.correct:
            per[o.query.requirement]["correct"] += 1
            per[o.query.requirement]["points"] += o.query.weight
    total = sum(p["points"] for p in per.values())
    if total > 0:
        per["R17"]["points"] = R17
        total += R17
    return {"correct": sum(o.correct for o in outcomes), "queries": len(outcomes),
            "percent": float(100 * total), "requirements": per}


def report(outcomes: list[Outcome], engine_name: str = "") -> str:
    """Per-requirement lines, the wrong answers and the overall score, as text."""
    s = score(outcomes)
    lines = []
    for r, p in sorted(s["requirements"].items(), key=lambda kv: int(kv[0][1:])):
        share = 100 * float(p["points"] / p["weight"]) if p["weight"] else 0.0
        lines.append(f"  {r:4s} {p['correct']:3d} / {p['queries']:3d} queries  {share:5.1f}% of its "
                     f"{float(100 * p['weight']):.2f} points")
    lines.append("")
    lines += [f"WRONG {o.query.id} ({o.query.requirement}): {o.message}" for o in outcomes if not o.correct]
    lines.append(f"GSB on {engine_name}: {s['correct']} / {s['queries']} correct answers, "
                 f"compliance {s['percent']:.2f}%")
    return "\n".join(lines)
