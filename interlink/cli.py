"""The ``interlink`` subcommand: topological and distance links between two datasets."""
from __future__ import annotations

import argparse
import sys

from eolinked.errors import EolinkedError

RAW = argparse.RawDescriptionHelpFormatter

EXAMPLES = """examples:
  eolinked interlink --source buildings.nt --target landuse.ttl -o links.nt
  eolinked interlink --source parcels.gpkg --source-id 'http://ex.org/parcel/{id}' \\
      --target corine.shp --target-id 'http://ex.org/clc/{ID}' --relations sfWithin,sfOverlaps -o links.nt
  eolinked interlink --source points.geojson --source-id 'http://ex.org/point/{__row}' \\
      --target parcels.nt --within-distance 10 --distance-value -o near.nt
  eolinked interlink --source a.nt --target b.nt --budget 10% --weighting chi2*mbro -o top.nt
  eolinked interlink --source a.nt --target b.nt --evaluate --weighting cf,js,chi2,mbro,isp,chi2*mbro \\
      --budget 5%,10%,20%,50%
  eolinked interlink --source a.parquet --target b.nq --graph http://ex.org/links -o links.nq --pairs pairs.parquet
  eolinked interlink --engine spark --master 'local[2]' --source a.nt --target b.nt -o links-dir.nt

Inputs: N-Triples, N-Quads, Turtle, TriG (optionally .gz) or Parquet triples (string columns s, p, o[, g]
with N-Triples terms), whose features have geo:hasGeometry/geo:hasDefaultGeometry -> geo:asWKT; or geo
files (Shapefile, GeoPackage, GeoJSON, GeoParquet, ...) with an IRI template per side ({attribute}, or
{__row} for the record number). The target is reprojected into the source CRS (both to CRS84 when the
target lies outside the source CRS's area of use, or to --crs). Relations: sfEquals, sfIntersects,
sfTouches, sfWithin, sfContains, sfOverlaps, sfCrosses, ehCovers, ehCoveredBy (all from one DE-9IM matrix
per pair). --budget is a number of pairs or a percentage of the candidate pairs. Outputs are written to a
temporary file and renamed when complete: a failed run leaves no output."""


DESCRIPTION = ("Find pairs of features that satisfy DE-9IM relations (or lie within a geodesic distance), "
               "exactly or progressively within a budget, and write them as link triples, locally or on Spark.")

SUBMIT_EXAMPLES = """examples:
  spark-submit --master 'local[2]' "$(python -c 'import interlink.submit as m; print(m.__file__)')" \\
      --source buildings.nt --target landuse.nt -o links.nt
  spark-submit --master yarn .../interlink/submit.py --source a.parquet --target b.parquet \\
      --budget 10% --weighting 'chi2*mbro' -o hdfs:///eo/links.nt.gz

The output is a directory of part files (.nt, or .nq with --graph, optionally .gz)."""


def register(sub) -> None:
    p = sub.add_parser("interlink", help="discover topological or distance links between two datasets",
                       description=DESCRIPTION, epilog=EXAMPLES, formatter_class=RAW)
    _arguments(p)


def submit_parser() -> argparse.ArgumentParser:
    """The interlink command on its own, for spark-submit interlink/submit.py (the engine is Spark)."""
    p = argparse.ArgumentParser(prog="spark-submit interlink/submit.py", description=DESCRIPTION,
                                epilog=SUBMIT_EXAMPLES, formatter_class=RAW)
    _arguments(p, spark_submit=True)
    p.set_defaults(command="interlink")
    return p


def _arguments(p, spark_submit: bool = False) -> None:
    p.add_argument("--source", required=True, help="source dataset (RDF or geo file); it is indexed")
    p.add_argument("--target", required=True, help="target dataset (RDF or geo file); it is streamed in batches")
    p.add_argument("-o", "--output", help="link triples: .nt, or .nq with --graph (optionally .gz)")
    p.add_argument("--source-id", metavar="TEMPLATE", help="IRI template of source features (geo files)")
    p.add_argument("--target-id", metavar="TEMPLATE", help="IRI template of target features (geo files)")
    p.add_argument("--source-layer", help="layer of a multi-layer source file")
    p.add_argument("--target-layer", help="layer of a multi-layer target file")
    p.add_argument("--relations", default="all",
                   help="comma-separated relations (default all): sfEquals, sfIntersects, sfTouches, sfWithin, "
                        "sfContains, sfOverlaps, sfCrosses, ehCovers, ehCoveredBy")
    p.add_argument("--within-distance", type=float, metavar="METRES",
                   help="instead of relations, link pairs at most this geodesic distance apart")
    p.add_argument("--distance-value", action="store_true",
                   help="with --within-distance: add the distance (reified link with il:distanceMetres)")
    p.add_argument("--index", choices=["grid", "strtree"], default="grid", help="source index (default grid)")
    p.add_argument("--budget", help="progressive mode: pairs to verify, a count or a percentage (10%%) of the "
                                    "candidate pairs; with --evaluate a comma-separated list")
    p.add_argument("--weighting", help="progressive scheme: cf, js, chi2, mbro, isp, random or a product such as "
                                       "chi2*mbro (default chi2*mbro); with --evaluate a comma-separated list")
    p.add_argument("--evaluate", action="store_true",
                   help="print recall, precision and progressive recall per scheme and budget; writes no links")
    p.add_argument("--graph", metavar="IRI", help="write N-Quads into this named graph")
    p.add_argument("--pairs", metavar="FILE", help="also write linked pairs with DE-9IM (.parquet or .csv)")
    p.add_argument("--crs", help="compare in this CRS (default: the source's, see above)")
    p.add_argument("--processes", type=int, default=0, help="worker processes (default: all cores)")
    p.add_argument("--batch-size", type=int, default=20_000, help="target features per task (default 20000)")
    if not spark_submit:
        p.add_argument("--engine", choices=["local", "spark"], default="local", help="execution engine (default local)")
        p.add_argument("--master", help="Spark engine: master URL (default local[*]; spark-submit's own)")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="Spark engine: a Spark setting (repeatable)")
    p.add_argument("--partitions", type=int, help="Spark engine: quad-tree leaves wanted (default 4 x the "
                                                   "default parallelism)")
    p.set_defaults(run=_interlink, **({"engine": "spark"} if spark_submit else {}))


def _interlink(args) -> int:
    common = {"source_id": args.source_id, "target_id": args.target_id, "source_layer": args.source_layer,
              "target_layer": args.target_layer, "relations": args.relations,
              "within_distance": args.within_distance, "index": args.index, "crs": args.crs,
              "processes": args.processes or None, "batch_size": args.batch_size}
    if args.evaluate:
        from .evaluate import DEFAULT_BUDGETS, DEFAULT_SCHEMES, evaluate

        if args.output or args.pairs:
            raise EolinkedError("--evaluate writes no links", hint="leave out -o/--pairs, or run without --evaluate")
        result = evaluate(args.source, args.target, args.weighting or DEFAULT_SCHEMES,
                          args.budget or DEFAULT_BUDGETS, **common)
        _notes(result.notes)
        print(result.table())
        print(result.line(), file=sys.stderr)
        return 0
    if not args.output and not args.pairs:
        raise EolinkedError("no output given", hint="add -o links.nt (and/or --pairs pairs.parquet), or --evaluate")
    if args.engine == "spark":
        from eolinked.spark import parse_conf

        from .spark import interlink_spark

        if args.pairs or not args.output:
            raise EolinkedError("the Spark engine writes link triples only", hint="give -o and leave out --pairs")
        common.pop("processes")
        common.pop("batch_size")
        summary = interlink_spark(args.source, args.target, args.output, budget=args.budget,
                                  weighting=args.weighting, graph=args.graph, distance_value=args.distance_value,
                                  partitions=args.partitions, master=getattr(args, "master", None),
                                  conf=parse_conf(args.spark_conf), **common)
        _notes(summary.notes)
        print(summary.line(), file=sys.stderr)
        return 0
    from .runner import interlink

    summary = interlink(args.source, args.target, args.output, budget=args.budget, weighting=args.weighting,
                        graph=args.graph, pairs=args.pairs, distance_value=args.distance_value, **common)
    _notes(summary.notes)
    print(summary.line(), file=sys.stderr)
    return 0


def _notes(notes) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
