"""``python -m store``: the load, query and serve commands on their own."""
import argparse
import sys

from eolinked.cli import run

from . import cli

parser = argparse.ArgumentParser(prog="python -m store", description="A Parquet GeoSPARQL store.")
cli.register(parser.add_subparsers(dest="command", metavar="COMMAND"))
sys.exit(run(parser))
