"""The ``eolinked`` command: dispatch only; each tool package registers its own subcommands."""
from __future__ import annotations

import argparse
import os
import sys

from eolinked.errors import EolinkedError

EPILOG = """examples:
  eolinked generate-mapping parcels.gpkg -o parcels.rml.ttl
  eolinked transform -m parcels.rml.ttl -o parcels.nt.gz --processes 2
  eolinked transform --engine spark --master 'local[2]' -m parcels.rml.ttl -o parcels.parquet
  eolinked interlink --source parcels.nt --target corine.nt -o links.nt
  eolinked load --store eo-store parcels.nt.gz links.nt
  eolinked query --store eo-store -f query.rq --format csv
  eolinked serve --store eo-store --port 7878
  eolinked demo -o demo-out

run 'eolinked COMMAND --help' for the options and examples of each command."""


def build_parser() -> argparse.ArgumentParser:
    from geotriples import cli as geotriples_cli
    from interlink import cli as interlink_cli
    from store import cli as store_cli

    parser = argparse.ArgumentParser(
        prog="eolinked", description="Linked geospatial data from Earth observation: RML to GeoSPARQL, spatial interlinking, a GeoSPARQL store.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    geotriples_cli.register(sub)
    interlink_cli.register(sub)
    store_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)


EXIT_CLOSED_OUTPUT = 128 + 13  # what a shell reports for a program ended by SIGPIPE


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; errors print one clear message.

    A standard output closed by its reader (``eolinked query ... | head``) ends the command
    quietly with exit status 141, as a program killed by SIGPIPE, instead of a traceback."""
    try:
        try:
            return _run(parser, argv)
        finally:
            sys.stdout.flush()  # buffered output meets a closed pipe here, not at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_CLOSED_OUTPUT


def _run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except EolinkedError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no output was left behind", file=sys.stderr)
        return 130


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so that Python's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
