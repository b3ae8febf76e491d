"""The mapping model: plain, picklable dataclasses that the parser fills and the executor runs.

Constants are kept as N-Triples terms (``<iri>``, ``"lex"^^<dt>``, ``_:b``), so that
constant terms go straight into the output without re-encoding.
"""
from __future__ import annotations

from dataclasses import dataclass, field

IRI, URI, UNSAFE_IRI, BLANK, LITERAL = "iri", "uri", "unsafe_iri", "blank", "literal"


@dataclass(frozen=True)
class Template:
    """A string template: literal text parts interleaved with references.

    ``parts[i]`` is either ``("text", s)`` or ``("ref", reference)``.
    """

    source: str
    parts: tuple[tuple[str, str], ...]

    @property
    def references(self) -> list[str]:
        return [v for k, v in self.parts if k == "ref"]


@dataclass
class FunctionCall:
    """An FnO function execution: function IRI and named inputs (parameter IRI -> map)."""

    function: str
    inputs: list[tuple[str, TermMap]]
    output: str | None = None


@dataclass
class TermMap:
    """A subject, predicate, object, graph, datatype, language or input value map."""

    kind: str  # "constant" | "reference" | "template" | "function" | "blank"
    constant: str | None = None  # N-Triples term for constants
    lexical: str | None = None  # a constant's IRI or lexical form, as function input or join key
    reference: str | None = None
    template: Template | None = None
    function: FunctionCall | None = None
    term_type: str | None = None
    datatype: str | None = None
    datatype_map: TermMap | None = None
    language: str | None = None
    language_map: TermMap | None = None
    condition: TermMap | None = None
    node: str = ""  # where it came from in the mapping, for error messages
    key: str = ""  # stable name within the mapping (labels of fresh blank nodes)

    @property
    def references(self) -> list[str]:
        refs: list[str] = []
        if self.reference is not None:
            refs.append(self.reference)
        if self.template is not None:
            refs.extend(self.template.references)
        if self.function is not None:
            for _, tm in self.function.inputs:
                refs.extend(tm.references)
        for sub in (self.datatype_map, self.language_map, self.condition):
            if sub is not None:
                refs.extend(sub.references)
        return refs


@dataclass
class RefObjectMap:
    """An object map that takes the subjects of another triples map, optionally joined."""

    parent: str
    joins: list[tuple[TermMap, TermMap]] = field(default_factory=list)  # (child, parent)
    node: str = ""


@dataclass
class PredicateObjectMap:
    predicates: list[TermMap]
    objects: list[TermMap | RefObjectMap]
    graphs: list[TermMap] = field(default_factory=list)


@dataclass(frozen=True)
class LogicalSource:
    """Where a triples map's records come from and how references are resolved."""

    path: str | None
    formulation: str  # "csv" | "jsonpath" | "vector" | "raster" | "geoparquet"
    iterator: str | None = None
    layer: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # delimiter, encoding, null values, band

    def option(self, name: str, default: str | None = None) -> str | None:
        return dict(self.options).get(name, default)


@dataclass
class TriplesMap:
    id: str
    name: str
    source: LogicalSource
    subject: TermMap
    classes: list[str] = field(default_factory=list)
    graphs: list[TermMap] = field(default_factory=list)
    poms: list[PredicateObjectMap] = field(default_factory=list)
    base_iri: str | None = None
    natural_datatypes: bool = False  # RML-Core: JSON numbers/booleans get XSD types

    @property
    def references(self) -> set[str]:
        refs = set(self.subject.references)
        for tm in self.graphs:
            refs.update(tm.references)
        for pom in self.poms:
            for tm in [*pom.predicates, *pom.graphs]:
                refs.update(tm.references)
            for om in pom.objects:
                if isinstance(om, RefObjectMap):
                    refs.update(r for child, _ in om.joins for r in child.references)
                else:
                    refs.update(om.references)
        return refs


@dataclass
class Mapping:
    path: str
    triples_maps: dict[str, TriplesMap]
    base_iri: str
    prefixes: dict[str, str] = field(default_factory=dict)
