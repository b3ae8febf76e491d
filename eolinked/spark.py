"""Spark session helper shared by the Spark jobs (imported only by each package's ``spark`` module)."""
from __future__ import annotations

import os
import re
import sys
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.errors import EolinkedError

# settings every eolinked job relies on; a user's --spark-conf or spark-submit --conf wins
DEFAULTS = {
    "spark.driver.memory": "4g",  # the executor too in local mode; Spark's 1g is short for Arrow batches
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


# -- output shared by the Spark jobs: N-Triples / N-Quads part files or Parquet triples ----------
LINE_SCHEMA = "value string"
TERM_SCHEMA = "s string, p string, o string, g string"
# s p o [g] . -- the object may hold spaces; a graph term never follows a literal without one
_TERMS = r"^(?P<s>\S+) (?P<p>\S+) (?P<o>.*?)(?: (?P<g><[^>]*>|_:\S+))? \.$"


def spark_path(path: str) -> str:
    """Local paths as file:// URIs, so that a cluster whose default file system is HDFS reads them locally."""
    return path if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", path) else "file://" + os.path.abspath(path)


def pack_lines(arr: pa.Array, limit: int = 8 << 20) -> pa.StringArray:
    """Newline-terminated lines -> strings of whole lines of about ``limit`` bytes, the final
    newline of each dropped (Spark's text writer adds it back)."""
    arr = arr.cast(pa.string()) if arr.type != pa.string() else arr
    offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    start, end = offsets[0], offsets[-1]
    cuts = np.unique(np.r_[0, np.searchsorted(offsets, np.arange(start + limit, end, limit)), len(arr)])
    bounds = offsets[cuts] - start
    data = np.frombuffer(arr.buffers()[2], np.uint8)[start:end]
    body = np.delete(data, bounds[1:] - 1)
    new_offsets = (bounds - np.arange(len(bounds))).astype(np.int32)
    return pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(new_offsets), pa.py_buffer(body))


class OutputDir:
    """Part files written to a temporary directory beside the output, renamed into place when complete."""

    def __init__(self, spark, output, fmt, gzip):
        self.spark, self.fmt, self.gzip = spark, fmt, gzip
        self.output = spark_path(output.rstrip("/"))
        parent, _, name = self.output.rpartition("/")
        self.tmp = f"{parent}/{name}.eolinked-tmp-{uuid.uuid4().hex[:12]}"
        self.fs, self.tmp_path = hadoop_fs(spark, self.tmp)
        self.parts = 0

    def __enter__(self):
        parent = self.tmp_path.getParent()
        if not self.fs.exists(parent):
            raise EolinkedError("output directory does not exist", where=str(parent.toString()),
                                hint="create it first or choose another -o path")
        self.fs.mkdirs(self.tmp_path)
        return self

    def write(self, frame) -> None:
        scratch = f"{self.tmp}/_job{self.parts}"
        if self.fmt == "parquet":
            frame.mapInArrow(split_terms, TERM_SCHEMA).write.parquet(scratch)
            ext = ".parquet"
        else:
            frame.write.text(scratch, compression="gzip" if self.gzip else None)
            ext = f".{self.fmt}" + (".gz" if self.gzip else "")
        jvm = self.spark._jvm
        for status in sorted(self.fs.listStatus(jvm.org.apache.hadoop.fs.Path(scratch)),
                             key=lambda s: s.getPath().getName()):
            name = status.getPath().getName()
            if name.startswith("part-"):
                self.fs.rename(status.getPath(), jvm.org.apache.hadoop.fs.Path(f"{self.tmp}/part-{self.parts:05d}{ext}"))
                self.parts += 1
        self.fs.delete(jvm.org.apache.hadoop.fs.Path(scratch), True)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.fs.delete(self.tmp_path, True)
            return False
        _, out = hadoop_fs(self.spark, self.output)
        if self.fs.exists(out):
            self.fs.delete(out, True)
        if not self.fs.rename(self.tmp_path, out):
            raise EolinkedError("cannot move the finished output into place", where=self.output)
        return False


def split_terms(arrow_batches):
    """N-Triples / N-Quads lines -> s, p, o, g terms (g null in the default graph)."""
    for rb in arrow_batches:
        cut = pc.extract_regex(pc.list_flatten(pc.split_pattern(rb.column(0), "\n")), _TERMS)
        cols = [pc.struct_field(cut, k) for k in ("s", "p", "o", "g")]
        cols[3] = pc.if_else(pc.equal(cols[3], ""), pa.scalar(None, pa.string()), cols[3])
        yield pa.RecordBatch.from_arrays(cols, ["s", "p", "o", "g"])




class Progress:
    """Spark's progress on standard error while a job runs: tasks done over tasks of the stages seen
    so far (a tqdm bar fed by the status tracker). On by default when standard error is a terminal."""

    def __init__(self, spark, desc: str, enabled: bool | None = None):
        self.spark, self.desc = spark, desc
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._stop = None

    def __enter__(self):
        if self.enabled:
            import threading

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        from tqdm import tqdm

        tracker, stages = self.spark.sparkContext.statusTracker(), {}
        with tqdm(desc=self.desc, unit=" task", file=sys.stderr, leave=False) as bar:
            while not self._stop.wait(0.5):
                for sid in tracker.getActiveStageIds():
                    info = tracker.getStageInfo(sid)
                    if info is not None:
                        stages[sid] = (info.numTasks, info.numCompletedTasks)
                bar.total = sum(t for t, _ in stages.values())
                bar.n = sum(c for _, c in stages.values())
                bar.refresh()

    def __exit__(self, *exc):
        if self._stop is not None:
            self._stop.set()
            self._thread.join()
        return False
