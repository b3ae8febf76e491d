"""Namespace IRIs used across eolinked (GeoSPARQL, RDF, XSD, R2RML/RML, FnO)."""

GEO = "http://www.opengis.net/ont/geosparql#"
GEOF = "http://www.opengis.net/def/function/geosparql/"
SF = "http://www.opengis.net/ont/sf#"
UOM = "http://www.opengis.net/def/uom/OGC/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"

RR = "http://www.w3.org/ns/r2rml#"
RML_LEGACY = "http://semweb.mmlab.be/ns/rml#"
RML = "http://w3id.org/rml/"
QL = "http://semweb.mmlab.be/ns/ql#"
FNML = "http://semweb.mmlab.be/ns/fnml#"
FNO = "https://w3id.org/function/ontology#"
FNO_OLD = "http://w3id.org/function/ontology#"
GREL = "http://users.ugent.be/~bjdmeest/function/grel.ttl#"
IDLAB_FN = "https://w3id.org/imec/idlab/function#"
RRX = "http://www.w3.org/ns/r2rml-ext#"
RRXF = "http://www.w3.org/ns/r2rml-ext/functions/def/"

WKT_LITERAL = GEO + "wktLiteral"
GML_LITERAL = GEO + "gmlLiteral"
GEOJSON_LITERAL = GEO + "geoJSONLiteral"
RDF_TYPE = RDF + "type"
RDF_LANG_STRING = RDF + "langString"
XSD_STRING = XSD + "string"

PREFIXES = {
    "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "owl": OWL,
    "geo": GEO, "geof": GEOF, "sf": SF, "uom": UOM,
}
