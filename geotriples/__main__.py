"""``python -m geotriples``: the GeoTriples commands on their own."""
import argparse
import sys

from eolinked.cli import run

from . import cli

parser = argparse.ArgumentParser(prog="python -m geotriples", description="RML mappings to GeoSPARQL triples.")
cli.register(parser.add_subparsers(dest="command", metavar="COMMAND"))
sys.exit(run(parser))
