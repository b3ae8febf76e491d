"""The query engine: a SedonaDB connection over one store version, the SPARQL function UDFs,
and query execution (parse -> compile -> one SQL statement -> terms)."""
from __future__ import annotations

import datetime as _dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor, TimeoutError as _Timeout
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rdflib import Variable

from eolinked import crs as crslib
from eolinked.errors import QueryError, QueryTimeout
from eolinked.geosparql import GEO_AGGREGATES
from eolinked.results import Result
from eolinked.vocab import XSD

from . import layout, spatial
from .compile import Compiler, Dataset
from .construct import construct, describe, where_triples
from .expr import col, sql_str
from .groups import lift_custom_aggregates
from .sparql import parse
from .udfs import register_udfs


class Store:
    """A read-only view of the live version of a store directory, queried with SPARQL."""

    def __init__(self, store_dir, entailment: str | None = None):
        import sedonadb

        self.dir = Path(store_dir)
        self.version = layout.open_version(self.dir)
        self.stats = self.version.stats
        self.nt = pq.read_table(self.version.terms, columns=["nt"])["nt"].combine_chunks()
        self.total = max(int(self.stats.get("triples", 0)), 1)
        self.con = sedonadb.connect()
        self._lock = threading.Lock()
        self._views = 0
        self._register_tables()
        register_udfs(self.con, self.nt)
        if entailment not in (None, "none", "rdfs"):
            raise QueryError(f"unknown entailment regime {entailment!r}", hint="use 'rdfs' or none")
        self.entailment = entailment if entailment != "none" else None
        if self.entailment:
            from .entailment import materialise_rdfs

            materialise_rdfs(self)

    # -- catalog (what the compiler asks) ----------------------------------------------------
    def term_id(self, nt: str) -> int | None:
        i = pc.index(self.nt, pa.scalar(nt, self.nt.type)).as_py()
        return None if i < 0 else i

    def scan_source(self, pid: int):
        info = self.stats.get("predicates", {}).get(str(pid))
        if info is None:
            return None
        return ("rest", True) if info["table"].endswith("rest.parquet") else (f"p{pid}", False)

    def estimate(self, pid: int, s_bound: bool, o_id: int | None) -> float:
        info = self.stats["predicates"][str(pid)]
        n = float(info["count"])
        if s_bound:
            n /= max(info.get("distinct_s", 1), 1)
        if o_id is not None:
            top = dict((int(a), b) for a, b in info.get("top_o", []))
            n = float(top[o_id]) if o_id in top else n / max(info.get("distinct_o", 1), 1)
        return n

    def run(self, sql: str) -> pa.Table:
        return pa.table(self.con.sql(sql))

    def register(self, table: pa.Table) -> str:
        with self._lock:
            self._views += 1
            name = f"tmp{self._views}"
        self.con.create_data_frame(table).to_view(name, overwrite=True)
        return name

    def _register_tables(self, inferred: pa.Table | None = None) -> None:
        v, con = self.version, self.con
        quads = []
        for pid, path in v.tables.items():
            con.read_parquet(str(path)).to_view(f"pq{pid}", overwrite=True)
            extra = f" UNION ALL SELECT s, o, g FROM inferred WHERE p = {pid}" if inferred is not None else ""
            con.sql(f"SELECT s, o, g FROM pq{pid}{extra}").to_view(f"p{pid}", overwrite=True)
            quads.append(f"SELECT s, CAST({pid} AS BIGINT) AS p, o, g FROM pq{pid}")
        if Path(v.rest).exists():
            con.read_parquet(str(v.rest)).to_view("pqrest", overwrite=True)
        else:
            con.create_data_frame(_empty_quads()).to_view("pqrest", overwrite=True)
        con.create_data_frame(inferred if inferred is not None else _empty_quads()) \
            .to_view("inferred", overwrite=True)
        con.sql("SELECT s, p, o, g FROM pqrest UNION ALL SELECT s, p, o, g FROM inferred") \
            .to_view("rest", overwrite=True)
        quads.append("SELECT s, p, o, g FROM rest")
        con.sql(" UNION ALL ".join(quads)).to_view("quads", overwrite=True)
        if Path(v.geometries).exists():
            con.read_parquet(str(v.geometries)).to_view("geometries", overwrite=True)
        else:
            con.create_data_frame(pa.table(
                {"id": pa.array([], pa.int64()), "crs": pa.array([], pa.string()),
                 **{k: pa.array([], pa.float64()) for k in ("minx", "miny", "maxx", "maxy")}})) \
                .to_view("geometries", overwrite=True)
        # the spatial planner's candidate boxes (store/spatial.py): CRS84 bounds, emptiness, and
        # the slack a distance in the row's own CRS needs (geographic: geodesic; projected: Cartesian)
        crss = [c for c in self.run("SELECT DISTINCT crs FROM geometries")["crs"].to_pylist() if c]
        geographic = [c for c in crss if _is_geographic(c)]
        scale = (f"CASE WHEN crs IN ({', '.join(map(sql_str, geographic))}) THEN {spatial.SLACK} "
                 f"ELSE {spatial.PROJECTED_SLACK} END" if geographic else str(spatial.PROJECTED_SLACK))
        con.sql(f"SELECT id, minx, miny, maxx, maxy, (minx IS NULL OR isnan(minx)) AS empty, "
                f"{scale} AS scale FROM geometries").to_view("geoms", overwrite=True)

    # -- entailment support -------------------------------------------------------------------
    def intern(self, nts: list[str]) -> dict[str, int]:
        """Ids of terms, adding those the dictionary lacks (in memory, for inferred triples)."""
        want = pa.array(sorted(set(nts)), pa.string())
        found = pc.index_in(want, value_set=self.nt).to_numpy(zero_copy_only=False)
        missing = [w for w, f in zip(want.to_pylist(), found) if f != f or f is None]
        ids = {w: int(f) for w, f in zip(want.to_pylist(), found) if f == f and f is not None}
        if missing:
            base = len(self.nt)
            self.nt = pa.concat_arrays([self.nt, pa.array(missing, self.nt.type)])
            ids.update({m: base + k for k, m in enumerate(missing)})
            register_udfs(self.con, self.nt)
        return ids

    def literal_mask(self) -> pa.Array:
        return pc.starts_with(self.nt, '"')

    def add_inferred(self, inferred: pa.Table) -> None:
        preds = self.stats.setdefault("predicates", {})
        counts = inferred.group_by("p").aggregate([("s", "count")])
        for pid, n in zip(counts["p"].to_pylist(), counts["s_count"].to_pylist()):
            entry = preds.setdefault(str(pid), {"table": "quads/rest.parquet", "count": 0,
                                                "distinct_s": 1, "distinct_o": 1, "top_o": []})
            entry["count"] += n
            entry["top_o"] = []
        self._register_tables(inferred)

    # -- queries ----------------------------------------------------------------------------
    def query(self, text: str, default_graphs=None, named_graphs=None, timeout: float | None = None,
              base: str | None = None) -> Result:
        """Run a SPARQL query; ``timeout`` seconds stops waiting and raises QueryTimeout."""
        if not timeout:
            return self._query(text, default_graphs, named_graphs, base)
        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(self._query, text, default_graphs, named_graphs, base)
        try:
            return future.result(timeout=timeout)
        except _Timeout:
            raise QueryTimeout(f"query exceeded the timeout of {timeout:g} s",
                               hint="raise the timeout or narrow the query") from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def sql(self, text: str, default_graphs=None, named_graphs=None, base=None) -> str:
        """The SQL statement a SELECT / ASK / CONSTRUCT query compiles to (for EXPLAIN)."""
        q = parse(text, base)
        return self._compile(q.algebra, default_graphs, named_graphs, _base_of(q, base), text)[0]

    def _query(self, text, default_graphs, named_graphs, base) -> Result:
        q = parse(text, base)
        alg = q.algebra
        sql, names, kinds = self._compile(alg, default_graphs, named_graphs, _base_of(q, base), text)
        try:
            table = self.run(sql)
        except Exception as exc:  # SedonaDB reports planning / execution errors as one type
            raise QueryError(f"query failed in the SQL engine: {exc}",
                             hint="this is a bug or an unsupported combination; please report it "
                                  "with the query") from None
        cols = [self._decode(table.column(col(None, v).strip('"')), kinds[v]) for v in names]
        solutions = pa.table(cols, names=names) if names else table.select([])
        if alg.name == "AskQuery":
            return Result("ask", boolean=table.num_rows > 0)
        if alg.name == "ConstructQuery":
            template = alg.template if alg.template is not None else where_triples(alg.p)
            return Result("graph", table=construct(template, solutions))
        if alg.name == "DescribeQuery":
            return Result("graph", table=describe(self, alg, solutions))
        if not names:
            solutions = table.select([])
        return Result("select", variables=names, table=solutions)

    def _compile(self, alg, default_graphs, named_graphs, base=None, text=None):
        dataset = self._dataset(alg.get("datasetClause"), default_graphs, named_graphs)
        now = _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
        c = Compiler(self, dataset, f'"{now}"^^<{XSD}dateTime>', base)
        lift_custom_aggregates(alg, GEO_AGGREGATES)
        rel = c.compile(alg)
        if alg.name == "SelectQuery":
            names = [str(v) for v in alg.PV if isinstance(v, Variable)]
            if text is not None and _SELECT_STAR.search(text):  # rdflib sorts them: keep the query's order
                names.sort(key=lambda v: _first_use(text, v))
        else:
            names = list(rel.cols)
        kinds = {v: rel.cols.get(v, "nt") for v in names}
        sel = [f"r.{col(None, v)}" if v in rel.cols else f"CAST(NULL AS VARCHAR) AS {col(None, v)}"
               for v in names]
        tail = f"ORDER BY {', '.join('r.' + o for o in rel.order)}" if rel.order else ""
        if alg.name == "AskQuery":
            names, sel, tail = [], ["1 AS one"], "LIMIT 1"
        return c.statement(rel, ", ".join(sel) or "1 AS one", tail), names, kinds

    def _dataset(self, clauses, default_graphs, named_graphs) -> Dataset:
        default = list(default_graphs or [])
        named = list(named_graphs or [])
        if not default and not named and clauses:
            default = [str(d.default) for d in clauses if d.get("default") is not None]
            named = [str(d.named) for d in clauses if d.get("named") is not None]
        if not default and not named:
            return Dataset()

        def ids(iris):
            return [i for i in (self.term_id(f"<{g}>") for g in iris) if i is not None]

        return Dataset(default=ids(default), named=ids(named))

    def _decode(self, column, kind: str) -> pa.Array:
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if kind == "id" and pa.types.is_integer(column.type):
            return pc.take(self.nt, column)
        return column.cast(pa.string())

    def close(self) -> None:
        self.con = None


def _is_geographic(iri: str) -> bool:
    try:
        return crslib.iri_to_crs(iri).is_geographic
    except Exception:  # an unknown CRS: its geometries are not in the table anyway
        return True


def _empty_quads() -> pa.Table:
    return pa.table({k: pa.array([], pa.int64()) for k in "spog"})


def _base_of(query, base):
    """The query's base IRI (its BASE, else the one given), for IRI() of relative references."""
    prologue = getattr(query, "prologue", None)
    return (prologue.base if prologue is not None and prologue.base else None) or base


_SELECT_STAR = re.compile(r"SELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE)


def _first_use(text: str, var: str) -> int:
    m = re.search(r"[?$]" + re.escape(var) + r"(?![\w\u00b7\u0300-\u036f\u203f-\u2040])", text)
    return m.start() if m else len(text)
