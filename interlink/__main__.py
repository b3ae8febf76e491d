"""``python -m interlink``: the interlink command on its own."""
import argparse
import sys

from eolinked.cli import run

from . import cli

parser = argparse.ArgumentParser(prog="python -m interlink", description="Topological and distance links.")
cli.register(parser.add_subparsers(dest="command", metavar="COMMAND"))
sys.exit(run(parser))
