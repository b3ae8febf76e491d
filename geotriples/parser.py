"""RML mapping parser: legacy RML (rml.io + R2RML), RML-Core, FNML and GeoTriples' rrx functions.

Legacy vocabularies are first rewritten to RML-Core terms, so one reader handles both.
"""
from __future__ import annotations

import os
import re

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection

from eolinked import vocab
from eolinked.errors import EolinkedError

from .model import (
    BLANK,
    IRI,
    LITERAL,
    UNSAFE_IRI,
    URI,
    FunctionCall,
    LogicalSource,
    Mapping,
    PredicateObjectMap,
    RefObjectMap,
    TermMap,
    TriplesMap,
)
from .templates import parse_template

R = rdflib.Namespace(vocab.RML)
RDF_TYPE = URIRef(vocab.RDF_TYPE)
CSVW = "http://www.w3.org/ns/csvw#"
DEFAULT_BASE = "http://example.com/base/"
_RENAMES = {"column": "reference", "ArgumentMap": "Input"}
_TERM_TYPES = {"IRI": IRI, "URI": URI, "UnsafeIRI": UNSAFE_IRI, "UnsafeURI": UNSAFE_IRI,
               "BlankNode": BLANK, "Literal": LITERAL}
_VECTOR_EXT = {".shp", ".gpkg", ".geojson", ".geojsonl", ".geojsons", ".fgb", ".gml", ".kml",
               ".pbf", ".gdb", ".sqlite"}
_LANG = re.compile(r"^([a-zA-Z]{2,3}|[xXiI])(-[a-zA-Z0-9]{1,8})*$")


def load_mapping(path: str, base_iri: str | None = None) -> Mapping:
    """Parse the RML mapping at ``path``; errors name the file and, for syntax, the line."""
    if not os.path.exists(path):
        raise EolinkedError("mapping file not found", where=path,
                            hint="check the path given with -m/--mapping")
    fmt = rdflib.util.guess_format(path) or "turtle"
    graph = rdflib.Graph(bind_namespaces="none")
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # rdflib raises several types; all are syntax errors here
        line = re.search(r"line (\d+)", str(exc))
        raise EolinkedError(f"mapping is not valid {fmt}: {str(exc).splitlines()[0][:300]}",
                            where=f"{path}:{line.group(1)}" if line else path,
                            hint="fix the Turtle syntax at that line") from None
    return MappingReader(_normalise(graph), path, base_iri).read()


def _normalise(graph: rdflib.Graph) -> rdflib.Graph:
    """Rewrite rr:, legacy rml:, ql: and fnml: terms to their RML-Core (http://w3id.org/rml/) names."""
    legacy = (vocab.RR, vocab.RML_LEGACY, vocab.QL, vocab.FNML)

    def fix(term):
        if isinstance(term, URIRef):
            for ns in legacy:
                if term.startswith(ns):
                    local = term[len(ns):]
                    return URIRef(vocab.RML + _RENAMES.get(local, local))
        return term

    out = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=True)
    for s, p, o in graph:
        out.add((fix(s), fix(p), fix(o)))
    out.legacy = any(str(p).startswith((vocab.RR, vocab.RML_LEGACY)) for p in graph.predicates())
    return out


class MappingReader:
    def __init__(self, graph: rdflib.Graph, path: str, base_iri: str | None):
        self.g = graph
        self.path = path
        self.base_iri = base_iri or DEFAULT_BASE
        self.natural = not getattr(graph, "legacy", False)

    # -- small graph helpers -------------------------------------------------
    def one(self, node, prop, required=False, what=""):
        values = list(self.g.objects(node, prop))
        if len(values) > 1:
            raise self.error(node, f"has {len(values)} values for {self._short(prop)}; one is allowed")
        if not values:
            if required:
                raise self.error(node, f"has no {self._short(prop)}{what}")
            return None
        return values[0]

    def error(self, node, message, hint=None) -> EolinkedError:
        return EolinkedError(f"{self.label(node)} {message}", where=self.path,
                             hint=hint or "see the RML specification, https://w3id.org/rml/core/spec")

    def label(self, node) -> str:
        if isinstance(node, URIRef):
            return f"<{node}>"
        return "a blank node (" + ", ".join(sorted({self._short(p) for p in self.g.predicates(node)}))[:120] + ")"

    @staticmethod
    def _short(term) -> str:
        text = str(term)
        for prefix, ns in (("rml:", vocab.RML), ("rdf:", vocab.RDF), ("rrx:", vocab.RRX)):
            if text.startswith(ns):
                return prefix + text[len(ns):]
        return f"<{text}>"

    # -- top level -----------------------------------------------------------
    def read(self) -> Mapping:
        nodes = set(self.g.subjects(R.logicalSource, None)) | set(self.g.subjects(RDF_TYPE, R.TriplesMap))
        nodes = {n for n in nodes if not self._is_function_map(n)}
        if not nodes:
            raise EolinkedError("no triples map found", where=self.path,
                                hint="a triples map needs rml:logicalSource and rml:subjectMap")
        maps = {}
        # rdflib yields multi-valued properties in hash order and labels blank nodes at random: sort
        # by IRI, blank nodes by their content, so the output is the same on every run
        ordered = sorted(nodes, key=lambda n: (isinstance(n, BNode), self._describe(n, 4) if isinstance(n, BNode)
                                               else str(n)))
        for k, node in enumerate(ordered):
            tm = self.triples_map(node, k)
            maps[tm.id] = tm
        for tm in maps.values():
            for pom in tm.poms:
                for om in pom.objects:
                    if isinstance(om, RefObjectMap) and om.parent not in maps:
                        raise EolinkedError(f"triples map {tm.name} refers to parent triples map "
                                            f"{om.parent} that does not exist", where=self.path,
                                            hint="rml:parentTriplesMap must name a triples map of this file")
        prefixes = {p: str(ns) for p, ns in self.g.namespaces()}
        return Mapping(self.path, maps, self.base_iri, prefixes)

    def _is_function_map(self, node) -> bool:
        return (None, URIRef(vocab.RML + "functionValue"), node) in self.g

    def triples_map(self, node, position: int = 0) -> TriplesMap:
        subjects = self.ordered(node, R.subjectMap) + [
            self._constant_shortcut(c) for c in self.ordered(node, R.subject)]
        if len(subjects) != 1:
            raise self.error(node, f"has {len(subjects)} subject maps; a triples map needs exactly one",
                             hint="give the triples map one rml:subjectMap")
        base = self.one(node, R.baseIRI)
        name = str(node) if isinstance(node, URIRef) else f"_:{node}"
        subj_node = subjects[0]
        subject = self.term_map(subj_node, "subject") if not isinstance(subj_node, TermMap) else subj_node
        classes = [str(c) for c in self.ordered(subj_node, R["class"])] if not isinstance(subj_node, TermMap) else []
        graphs = self.graph_maps(subj_node) if not isinstance(subj_node, TermMap) else []
        poms = [self.predicate_object_map(p) for p in self.ordered(node, R.predicateObjectMap)]
        tm = TriplesMap(id=name, name=self._tm_label(node, position), source=self.logical_source(node),
                        subject=subject, classes=classes, graphs=graphs, poms=poms,
                        base_iri=str(base) if base is not None else None, natural_datatypes=self.natural)
        _assign_keys(tm)
        return tm

    @staticmethod
    def _tm_label(node, position: int) -> str:
        if isinstance(node, BNode):  # blank node ids change from parse to parse; positions do not
            return f"triplesMap{position + 1}"
        text = str(node)
        return text.rsplit("#", 1)[-1] if "#" in text else text.rsplit("/", 1)[-1] or text

    # -- logical source ------------------------------------------------------
    def logical_source(self, tm_node) -> LogicalSource:
        ls = self.one(tm_node, R.logicalSource, required=True)
        src = self.one(ls, R.source, required=True, what=" (the input file)")
        iterator = self.one(ls, R.iterator)
        formulation = self.one(ls, R.referenceFormulation)
        options: dict[str, str] = {}
        path = None
        if isinstance(src, Literal):
            path = str(src)
        else:
            path_node = self.one(src, R.path) or self.one(src, URIRef(CSVW + "url"))
            if path_node is None:
                raise self.error(src, "describes a source without rml:path or csvw:url",
                                 hint="only file sources are supported: give rml:path \"file.csv\"")
            path = str(path_node)
            root = self.one(src, R.root)
            if root is not None and str(root).endswith("CurrentWorkingDirectory"):
                options["root"] = "cwd"
            dialect = self.one(src, URIRef(CSVW + "dialect"))
            if dialect is not None:
                for key in ("delimiter", "encoding", "quoteChar"):
                    v = self.one(dialect, URIRef(CSVW + key))
                    if v is not None:
                        options[key] = str(v)
            for null in self.ordered(src, URIRef(CSVW + "null")):
                options["null"] = str(null)
            for null in self.ordered(src, R.null):
                options["null"] = str(null)
            enc = self.one(src, R.encoding)
            if enc is not None:
                options["encoding"] = str(enc).rsplit("/", 1)[-1].replace("UTF-8", "utf-8")
        kind = self._formulation(formulation, path, iterator)
        layer = None
        if kind in ("vector", "raster", "geoparquet") and iterator is not None:
            layer = str(iterator)
            iterator = None
        if kind == "jsonpath" and iterator is None:
            iterator = "$"
        return LogicalSource(path=path, formulation=kind, iterator=str(iterator) if iterator else None,
                             layer=layer, options=tuple(sorted(options.items())))

    def _formulation(self, formulation, path: str, iterator) -> str:
        name = str(formulation).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() if formulation else ""
        ext = os.path.splitext(path.lower().removesuffix(".gz"))[1]
        if name == "csv":
            return "csv"
        if name in ("jsonpath", "json"):
            return "jsonpath"
        if name in ("xpath", "xquery", "sql2008", "sql2008table", "sql2008query"):
            raise EolinkedError(f"reference formulation {formulation} is not supported", where=self.path,
                                hint="eolinked reads CSV, JSON(Path) and geodata files")
        if ext in (".csv", ".tsv"):
            return "csv"
        if ext in (".parquet", ".geoparquet"):
            return "geoparquet"
        if ext in (".tif", ".tiff"):
            return "raster"
        if ext in _VECTOR_EXT:
            return "vector"
        if ext == ".json":  # a JSONPath iterator means JSON; none, or a layer name, means GeoJSON
            return "jsonpath" if iterator is not None and str(iterator).startswith("$") else "vector"
        raise EolinkedError(f"cannot tell how to read {path!r} (reference formulation {formulation})",
                            where=self.path,
                            hint="use rml:CSV, rml:JSONPath, or a geodata file (.shp, .gpkg, .geojson, .fgb, .parquet, .tif)")

    # -- predicate-object maps ----------------------------------------------
    def ordered(self, node, prop) -> list:
        """Objects of ``node``'s ``prop`` in an order that does not depend on blank node ids, so that
        term map keys (and the blank node labels made from them) are the same on every parse."""
        return sorted(self.g.objects(node, prop), key=lambda n: self._describe(n, 4))

    def _describe(self, node, depth: int) -> str:
        if not isinstance(node, BNode) or depth == 0:
            return "" if isinstance(node, BNode) else node.n3()
        return "[" + ";".join(sorted(f"{p.n3()} {self._describe(o, depth - 1)}"
                                     for p, o in self.g.predicate_objects(node))) + "]"

    def predicate_object_map(self, node) -> PredicateObjectMap:
        preds = [self.term_map(n, "predicate") for n in self.ordered(node, R.predicateMap)]
        preds += [self._constant_shortcut(c) for c in self.ordered(node, R.predicate)]
        objects: list = []
        for n in self.ordered(node, R.objectMap):
            if self.one(n, R.parentTriplesMap) is not None:
                objects.append(self.ref_object_map(n))
            else:
                objects.append(self.term_map(n, "object"))
        objects += [self._constant_shortcut(c, "object") for c in self.ordered(node, R.object)]
        if not preds:
            raise self.error(node, "has no predicate (rml:predicate or rml:predicateMap)")
        if not objects:
            raise self.error(node, "has no object (rml:object or rml:objectMap)")
        return PredicateObjectMap(preds, objects, self.graph_maps(node))

    def graph_maps(self, node) -> list[TermMap]:
        maps = [self.term_map(n, "graph") for n in self.ordered(node, R.graphMap)]
        maps += [self.term_map(c, "graph") if isinstance(c, BNode) else self._constant_shortcut(c, "graph")
                 for c in self.ordered(node, R.graph)]
        return maps

    def ref_object_map(self, node) -> RefObjectMap:
        parent = self.one(node, R.parentTriplesMap)
        joins = []
        for jc in self.ordered(node, R.joinCondition):
            child = self._join_side(jc, "child")
            parent_map = self._join_side(jc, "parent")
            joins.append((child, parent_map))
        pid = str(parent) if isinstance(parent, URIRef) else f"_:{parent}"
        return RefObjectMap(pid, joins, node=self.label(node))

    def _join_side(self, jc, side: str) -> TermMap:
        ref = self.one(jc, R[side])
        if ref is not None:
            return TermMap("reference", reference=str(ref), term_type=LITERAL)
        node = self.one(jc, R[side + "Map"], required=True)
        return self.term_map(node, "join")

    def _constant_shortcut(self, value, position: str = "subject") -> TermMap:
        return self._constant_map(value, None, position, "")

    # -- term maps -------------------------------------------------------------
    def term_map(self, node, position: str) -> TermMap:
        where = self.label(node)
        if isinstance(node, (Literal, URIRef)) and position in ("object",) and not list(self.g.predicate_objects(node)):
            return self._constant_map(node, None, position, where)
        term_type = self._term_type(node)
        constant = self.one(node, R.constant)
        reference = self.one(node, R.reference)
        template = self.one(node, R.template)
        execution = self.one(node, R.functionExecution)
        legacy_fn = self.one(node, URIRef(vocab.RML + "functionValue"))
        rrx_fn = self.one(node, URIRef(vocab.RRX + "function"))
        given = [x for x in (constant, reference, template, execution, legacy_fn, rrx_fn) if x is not None]
        if len(given) > 1:
            raise self.error(node, "combines rml:constant, rml:reference, rml:template or a function; "
                             "a term map takes exactly one")
        if constant is not None:
            return self._constant_map(constant, term_type, position, where, node)
        tm = TermMap("blank", term_type=term_type, node=where)
        if reference is not None:
            tm.kind, tm.reference = "reference", str(reference)
        elif template is not None:
            tm.kind, tm.template = "template", parse_template(str(template), f"{self.path}: {where}")
        elif execution is not None:
            tm.kind, tm.function = "function", self.function_execution(execution, node)
        elif legacy_fn is not None:
            tm.kind, tm.function = "function", self.legacy_function(legacy_fn)
        elif rrx_fn is not None:
            tm.kind, tm.function = "function", self.rrx_function(node, rrx_fn)
        elif term_type != BLANK and position != "subject":
            raise self.error(node, "has no rml:constant, rml:reference, rml:template or function",
                             hint="say what the term is made from")
        self._datatype_language(tm, node, position)
        cond = self.one(node, R.condition)
        if cond is not None:
            tm.condition = self.term_map(cond, "condition")
        tm.term_type = tm.term_type or self._default_term_type(tm, position)
        self._check_term_type(tm, node, position)
        return tm

    def _term_type(self, node):
        tt = self.one(node, R.termType)
        if tt is None:
            return None
        local = str(tt).rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if local not in _TERM_TYPES:
            raise self.error(node, f"has unknown rml:termType {tt}", hint="use rml:IRI, rml:BlankNode or rml:Literal")
        return _TERM_TYPES[local]

    def _default_term_type(self, tm: TermMap, position: str) -> str:
        if position in ("object", "join", "input", "condition", "datatype", "language"):
            if position == "object" and tm.kind in ("template", "blank") and tm.datatype is None \
                    and tm.language is None and tm.datatype_map is None and tm.language_map is None:
                return BLANK if tm.kind == "blank" else IRI
            return LITERAL
        if tm.kind == "blank":
            return BLANK
        return IRI

    def _check_term_type(self, tm: TermMap, node, position: str) -> None:
        if position == "subject" and tm.term_type == LITERAL:
            raise self.error(node, "makes literal subjects; subjects are IRIs or blank nodes",
                             hint="remove rml:termType rml:Literal from the subject map")
        if position == "predicate" and tm.term_type not in (IRI, URI, UNSAFE_IRI):
            raise self.error(node, "makes non-IRI predicates; predicates must be IRIs")
        if position == "graph" and tm.term_type not in (IRI, URI, UNSAFE_IRI):
            if not self.natural:  # legacy RML: a data error, whose triples are left out
                tm.kind, tm.term_type, tm.reference, tm.template = "none", IRI, None, None
                return
            raise self.error(node, "makes non-IRI graph names; named graphs must be IRIs")
        if (tm.datatype or tm.language or tm.datatype_map or tm.language_map) and tm.term_type != LITERAL:
            raise self.error(node, "sets a datatype or language on a term that is not a literal")

    def _datatype_language(self, tm: TermMap, node, position: str) -> None:
        dt = self.one(node, R.datatype)
        lang = self.one(node, R.language)
        dt_map = self.one(node, R.datatypeMap)
        lang_map = self.one(node, R.languageMap)
        if dt is not None:
            tm.datatype = str(dt)
        if lang is not None:
            tm.language = self._check_lang(str(lang), node)
        if dt_map is not None:
            sub = self.term_map(dt_map, "datatype")
            if sub.kind == "constant":
                tm.datatype = sub.constant[1:-1] if sub.constant.startswith("<") else _literal_lex(sub.constant)
            else:
                sub.term_type = IRI
                tm.datatype_map = sub
        if lang_map is not None:
            sub = self.term_map(lang_map, "language")
            if sub.kind == "constant":
                tm.language = self._check_lang(_literal_lex(sub.constant), node)
            else:
                tm.language_map = sub
        if (tm.datatype or tm.datatype_map) and (tm.language or tm.language_map):
            raise self.error(node, "has both a datatype and a language tag")

    def _check_lang(self, lang: str, node) -> str:
        if not _LANG.match(lang):
            raise self.error(node, f"has invalid language tag {lang!r}", hint="use a BCP 47 tag such as 'en' or 'de-AT'")
        return lang

    def _constant_map(self, value, term_type, position, where, node=None) -> TermMap:
        if isinstance(value, URIRef):
            if term_type not in (None, IRI, URI, UNSAFE_IRI):
                raise self.error(node, f"has an IRI constant but rml:termType {term_type}")
            return TermMap("constant", constant=f"<{value}>", lexical=str(value), term_type=IRI, node=where)
        if isinstance(value, BNode):
            raise self.error(node or value, "has a blank node as constant; use an IRI or a literal")
        if position in ("subject", "predicate", "graph"):
            raise self.error(node or value, f"has a literal constant in {position} position; it must be an IRI")
        if term_type not in (None, LITERAL):
            raise self.error(node, f"has a literal constant but rml:termType {term_type}")
        return TermMap("constant", constant=value.n3(), lexical=str(value), term_type=LITERAL, node=where)

    # -- functions -------------------------------------------------------------
    def function_execution(self, node, owner) -> FunctionCall:
        fn = self.one(node, R.function)
        if fn is None:
            fmap = self.one(node, R.functionMap)
            fn = self.one(fmap, R.constant) if fmap is not None else None
        if fn is None:
            raise self.error(node, "is a function execution without rml:function")
        inputs = []
        for inp in self.ordered(node, R.input):
            param = self.one(inp, R.parameter)
            if param is None:
                pmap = self.one(inp, R.parameterMap)
                param = self.one(pmap, R.constant) if pmap is not None else None
            value = self.one(inp, R.inputValue)
            vmap = self.one(inp, R.inputValueMap)
            if value is not None:
                tm = self._constant_map(value, None, "input", self.label(inp))
            elif vmap is not None:
                tm = self.term_map(vmap, "input")
            else:
                raise self.error(inp, "is a function input without rml:inputValue or rml:inputValueMap")
            inputs.append((str(param), tm))
        ret = self.one(owner, R["return"])
        if ret is None:
            rmap = self.one(owner, R.returnMap)
            ret = self.one(rmap, R.constant) if rmap is not None else None
        return FunctionCall(str(fn), inputs, str(ret) if ret is not None else None)

    def legacy_function(self, node) -> FunctionCall:
        """fnml:functionValue: a nested triples-map-like node whose POMs give fno:executes and parameters."""
        fn, inputs = None, []
        for pom in self.ordered(node, R.predicateObjectMap):
            preds = [str(p) for p in self.ordered(pom, R.predicate)]
            preds += [str(self.one(pm, R.constant)) for pm in self.ordered(pom, R.predicateMap)]
            om = next(iter(self.g.objects(pom, R.objectMap)), None)
            obj = next(iter(self.g.objects(pom, R.object)), None)
            if any(p.endswith("#executes") for p in preds):
                fn = str(obj if obj is not None else self.one(om, R.constant))
                continue
            tm = self._constant_map(obj, None, "input", "") if obj is not None else self.term_map(om, "input")
            inputs.extend((p, tm) for p in preds)
        if fn is None:
            raise self.error(node, "is an fnml:functionValue without fno:executes")
        return FunctionCall(fn, inputs)

    def rrx_function(self, node, fn) -> FunctionCall:
        """GeoTriples: rrx:function F ; rrx:argumentMap ( [term map] ... ) with positional arguments."""
        args = self.one(node, URIRef(vocab.RRX + "argumentMap"))
        items = list(Collection(self.g, args)) if args is not None else []
        inputs = [(f"arg{i}", self.term_map(item, "input")) for i, item in enumerate(items)]
        return FunctionCall(str(fn), inputs)


def _literal_lex(n3: str) -> str:
    return str(rdflib.util.from_n3(n3))


def _assign_keys(tm: TriplesMap) -> None:
    """Name every term map by its position, so fresh blank node labels are stable across runs."""
    prefix = re.sub(r"[^A-Za-z0-9]", "", tm.name)[-16:] or "tm"
    tm.subject.key = f"{prefix}s"
    for i, pom in enumerate(tm.poms):
        for j, om in enumerate(pom.objects):
            if isinstance(om, TermMap):
                om.key = f"{prefix}p{i}o{j}"
