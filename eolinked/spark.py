"""Spark session helper shared by the Spark jobs (imported only by each package's ``spark`` module)."""
from __future__ import annotations

import os
import re
import sys

from eolinked.errors import EolinkedError

# settings every eolinked job relies on; a user's --spark-conf or spark-submit --conf wins
DEFAULTS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.files.maxPartitionBytes": str(32 << 20),
}


def session(master: str | None = None, app_name: str = "eolinked", conf: dict[str, str] | None = None,
            ui: bool = True):
    """The active SparkSession, or a new one (``master`` defaults to spark-submit's, else ``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EolinkedError("the Spark engine needs pyspark", hint="pip install 'eolinked[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:  # under spark-submit its --master applies
        builder = builder.master(master or "local[*]")
    for key, value in {**DEFAULTS, "spark.ui.enabled": str(ui).lower(), **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def parse_conf(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (from --spark-conf) as a dict."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise EolinkedError(f"--spark-conf {pair!r} is not KEY=VALUE", hint="e.g. --spark-conf spark.executor.memory=4g")
        out[key.strip()] = value
    return out


def has_sedona(spark) -> bool:
    """True when Apache Sedona's jars are on the classpath of this session."""
    try:
        spark._jvm.java.lang.Class.forName("org.apache.sedona.spark.SedonaContext")
        return True
    except Exception:  # py4j reports the missing class as a Py4JJavaError
        return False


def hadoop_fs(spark, path: str):
    """(Hadoop FileSystem, Path) for any path Spark reaches: local, file://, hdfs://, s3a://."""
    jvm = spark._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark._jsc.hadoopConfiguration()), hpath


def job_error(exc: Exception) -> EolinkedError | None:
    """The EolinkedError raised inside a Spark task, recovered from the driver's exception text."""
    text = str(exc)
    match = re.search(r"eolinked\.errors\.EolinkedError: (.*?)(?:\n\n|\n\tat |\n\s*at |$)", text, re.DOTALL)
    if not match:
        return None
    return EolinkedError(match.group(1).strip())
