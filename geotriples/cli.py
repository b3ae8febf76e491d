"""Subcommands of the GeoTriples part: transform, generate-mapping, demo."""
from __future__ import annotations

import argparse
import sys

from eolinked.errors import EolinkedError

RAW = argparse.RawDescriptionHelpFormatter

TRANSFORM_EXAMPLES = """examples:
  eolinked transform -m mapping.ttl -o out.nt
  eolinked transform -m parcels.rml.ttl -o parcels.ttl --target-crs EPSG:4326
  eolinked transform -m crops.ttl -s parcels=/data/parcels_2025.gpkg -o crops.nq.gz --processes 2
  eolinked transform -m points.ttl -o points.nt --source-crs EPSG:25832 --invalid skip
  eolinked transform --engine spark --master local[2] -m parcels.rml.ttl -o parcels-nt/ -f nt
  eolinked transform --engine spark -m crops.ttl -o crops.parquet --spark-conf spark.executor.memory=4g

Source paths in the mapping resolve relative to the mapping file. The output is written to a
temporary file and renamed when complete: a failed run leaves no partial output. The Spark engine
writes a directory of part files (N-Triples, N-Quads, optionally gzip, or Parquet triples s, p, o, g)
and reads CSV, JSON Lines and GeoParquet from any path Spark reaches (hdfs://, s3a://, ...)."""

SPARK_SUBMIT_EXAMPLES = """examples:
  spark-submit --master local[2] "$(python -c 'import geotriples.submit as m; print(m.__file__)')" \\
      -m parcels.rml.ttl -o parcels.nt.gz
  spark-submit --master yarn .../geotriples/submit.py -m crops.ttl -s parcels=hdfs:///eo/parcels.csv \\
      -o hdfs:///eo/crops.parquet

The output is a directory of part files (.nt / .nq, optionally .gz, or Parquet triples s, p, o, g)."""

GENERATE_EXAMPLES = """examples:
  eolinked generate-mapping parcels.shp -o parcels.rml.ttl
  eolinked generate-mapping clc2018_mt.gpkg --layer clc18_mt -o corine.rml.ttl
  eolinked generate-mapping crop_types.tif -o crop_regions.rml.ttl --base-iri http://data.example.org/

The mapping has a feature triples map (one property per attribute, XSD datatypes from the
schema) linked by geo:hasGeometry to a geometry triples map with geo:asWKT in the source CRS."""

DEMO_EXAMPLES = """examples:
  eolinked demo -o demo-out

Generates mappings for the Natural Earth countries shapefile that ships with pyogrio and for a
generated crop-type classification raster, transforms both, and prints what it wrote."""


def _transform_arguments(t, spark_submit: bool = False) -> None:
    t.add_argument("-m", "--mapping", required=True, help="RML mapping file (Turtle)")
    t.add_argument("-o", "--output", required=True,
                   help="output: .nt, .nq or .ttl, optionally .gz; - for stdout. Spark engine: a directory "
                        "of part files named .nt, .nq (optionally .gz) or .parquet (s, p, o, g triples)")
    t.add_argument("-f", "--format", choices=["nt", "nq", "ttl", "parquet"],
                   help="output format (default: from the extension; parquet with the Spark engine only)")
    t.add_argument("-s", "--source", action="append", default=[], metavar="NAME=PATH",
                   help="use PATH for the source written NAME (path, file name or stem) in the mapping")
    t.add_argument("--base-iri", help="base IRI for relative IRIs (default http://example.com/base/)")
    t.add_argument("--target-crs", help="reproject geometries to this CRS (EPSG:4326, OGC:CRS84 or a CRS IRI)")
    t.add_argument("--source-crs", help="CRS of sources that declare none (e.g. WKT in a CSV); default CRS84")
    t.add_argument("--invalid", choices=["repair", "skip", "fail"], default="repair",
                   help="invalid geometries: repair with make_valid (default), skip, or fail naming the record")
    t.add_argument("--batch-size", type=int, default=65536, help="records per batch (default 65536)")
    if not spark_submit:
        t.add_argument("--engine", choices=["local", "spark"], default="local", help="execution engine (default local)")
        t.add_argument("--processes", type=int, default=1, help="local engine: worker processes (default 1)")
        t.add_argument("--master", help="Spark engine: master URL (default local[*]; spark-submit's own)")
    t.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="Spark engine: a Spark setting (repeatable)")
    t.add_argument("--partitions", type=int,
                   help="Spark engine: pieces for GDAL files and rasters (default 2 x the default parallelism)")
    t.set_defaults(run=_transform, **({"engine": "spark"} if spark_submit else {}))


def transform_parser(spark_submit: bool = False) -> argparse.ArgumentParser:
    """The transform command on its own (spark-submit runs geotriples/submit.py with these arguments)."""
    parser = argparse.ArgumentParser(prog="spark-submit geotriples/submit.py", description="Run an RML mapping "
                                     "as a Spark job.", epilog=SPARK_SUBMIT_EXAMPLES, formatter_class=RAW)
    _transform_arguments(parser, spark_submit)
    parser.set_defaults(command="transform")
    return parser


def register(sub) -> None:
    t = sub.add_parser("transform", help="run an RML mapping into GeoSPARQL triples",
                       description="Run an RML mapping (legacy RML, RML-Core, FNML, GeoTriples rrx functions) "
                                   "into N-Triples, N-Quads or Turtle, locally or as a Spark job.",
                       epilog=TRANSFORM_EXAMPLES, formatter_class=RAW)
    _transform_arguments(t)

    g = sub.add_parser("generate-mapping", help="write an RML mapping for a geodata file",
                       description="Write an RML mapping (GeoTriples style) for a Shapefile, GeoPackage, "
                                   "GeoJSON, FlatGeobuf, GeoParquet, CSV or classification GeoTIFF.",
                       epilog=GENERATE_EXAMPLES, formatter_class=RAW)
    g.add_argument("input", help="input file")
    g.add_argument("-o", "--output", required=True, help="mapping file to write (Turtle)")
    g.add_argument("--layer", help="layer of a multi-layer file (GeoPackage, OSM)")
    g.add_argument("--base-iri", default="http://example.com/", help="namespace of generated IRIs")
    g.add_argument("--class-name", help="class of the features (default: from the file name)")
    g.add_argument("--wkt-column", help="CSV only: the column holding WKT geometries")
    g.set_defaults(run=_generate)

    d = sub.add_parser("demo", help="generate mappings and transform bundled sample data",
                       description="End-to-end demo on sample data that installs with eolinked.",
                       epilog=DEMO_EXAMPLES, formatter_class=RAW)
    d.add_argument("-o", "--output-dir", default="demo-out", help="directory for mappings and triples")
    d.set_defaults(run=_demo)


def _overrides(pairs) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise EolinkedError(f"-s {pair!r} is not NAME=PATH", hint="e.g. -s parcels.shp=/data/parcels.shp")
        name, path = pair.split("=", 1)
        out[name] = path
    return out


def _transform(args) -> int:
    common = {"fmt": args.format, "overrides": _overrides(args.source), "base_iri": args.base_iri,
              "target_crs": args.target_crs, "source_crs": args.source_crs, "invalid": args.invalid,
              "batch_size": args.batch_size}
    if args.engine == "spark":
        from eolinked.spark import parse_conf

        from .spark import transform_spark

        summary = transform_spark(args.mapping, args.output, partitions=args.partitions,
                                  master=getattr(args, "master", None), conf=parse_conf(args.spark_conf), **common)
    else:
        from .runner import transform

        if args.format == "parquet":
            raise EolinkedError("Parquet triples are written by the Spark engine", hint="add --engine spark")
        summary = transform(args.mapping, args.output, processes=args.processes, **common)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    print(summary.line(), file=sys.stderr)
    return 0


def _generate(args) -> int:
    from .generate import generate_mapping

    info = generate_mapping(args.input, args.output, layer=args.layer, base_iri=args.base_iri,
                            class_name=args.class_name, wkt_column=args.wkt_column)
    print(f"wrote mapping for {info} to {args.output}", file=sys.stderr)
    return 0


def _demo(args) -> int:
    from .demo import run_demo

    run_demo(args.output_dir)
    return 0
