"""spark-submit entry point: ``spark-submit [SPARK OPTIONS] interlink/submit.py INTERLINK OPTIONS``."""
import sys

from eolinked.cli import run
from interlink.cli import submit_parser

if __name__ == "__main__":
    sys.exit(run(submit_parser()))
