"""spark-submit entry point: ``spark-submit [SPARK OPTIONS] geotriples/submit.py TRANSFORM OPTIONS``."""
import sys

from geotriples.spark import main

if __name__ == "__main__":
    sys.exit(main())
