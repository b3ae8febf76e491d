"""Issue 12 on the interlink side: directories of part files (as Spark writes them) as input, a
note naming both extents when they do not overlap, and outputs with the normal file mode."""
from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely

from eolinked.errors import EolinkedError
from eolinked.vocab import GEO
from interlink import interlink, read_features

from .linkdata import features, rdf_lines, read_links, write_geofile, write_parquet_triples


def _as_dict(f) -> dict:
    return dict(zip(f.ids.to_pylist(), shapely.to_wkb(shapely.normalize(f.geoms))))


def _spark_dir(path, parts: list[bytes], ext: str, gz: bool = False):
    """A directory as Spark leaves it: part files, an empty part, _SUCCESS and checksum files."""
    path.mkdir()
    for k, data in enumerate(parts + [b""]):
        name = f"part-{k:05d}-4f1c{ext}" + (".gz" if gz else "")
        (path / name).write_bytes(gzip.compress(data) if gz else data)
        (path / f".{name}.crc").write_bytes(b"crc")
    (path / "_SUCCESS").write_bytes(b"")
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_directory_of_ntriples_parts(tmp_path, synthetic, gz):
    src = synthetic[0]
    lines = rdf_lines(src).to_pylist()
    # the geometry triples of the first features land in another part than their features
    k = len(lines) // 2
    chunks = ["".join(lines[k + 3:]), "".join(lines[:k + 3])]
    d = _spark_dir(tmp_path / "s.nt", [c.encode() for c in chunks], ".nt", gz)
    got = read_features(d)
    assert _as_dict(got) == _as_dict(src) and got.name == str(d)


def test_blank_node_labels_are_shared_across_parts(tmp_path):
    a = f'<http://ex.org/f> <{GEO}hasGeometry> _:g1 .\n'.encode()
    b = f'_:g1 <{GEO}asWKT> "POINT (1 2)"^^<{GEO}wktLiteral> .'.encode()  # no final line end
    got = read_features(_spark_dir(tmp_path / "s.nt", [a, b], ".nt"))
    assert got.ids.to_pylist() == ["http://ex.org/f"] and got.geoms[0].equals(shapely.Point(1, 2))


def test_directory_of_parquet_triples_parts(tmp_path, synthetic):
    src = synthetic[0]
    whole = pq.read_table(write_parquet_triples(tmp_path / "all.parquet", src))
    d = tmp_path / "s.parquet"
    d.mkdir()
    half = whole.num_rows // 2
    pq.write_table(whole.slice(0, half), d / "part-00000-a.snappy.parquet")
    pq.write_table(whole.slice(half), d / "part-00001-a.snappy.parquet")
    (d / "_SUCCESS").write_bytes(b"")
    assert _as_dict(read_features(d)) == _as_dict(src)


def test_directory_of_geoparquet_parts_numbers_rows_on(tmp_path):
    geoms = shapely.points(np.arange(10.0), np.zeros(10))
    d = tmp_path / "points.parquet"
    d.mkdir()
    for k, sl in enumerate((slice(0, 4), slice(4, 10))):
        write_geofile(d / f"part-{k:05d}.parquet", features(geoms[sl], "p"))
    got = read_features(d, "http://ex.org/pt/{__row}")
    assert got.ids.to_pylist() == [f"http://ex.org/pt/{k}" for k in range(1, 11)]
    assert [g.x for g in got.geoms] == list(np.arange(10.0))


def test_directory_errors(tmp_path, synthetic):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EolinkedError, match="no part-\\* files"):
        read_features(tmp_path / "empty")
    mixed = _spark_dir(tmp_path / "mixed", [b"", b""], ".nt")
    shutil.copy(write_parquet_triples(tmp_path / "x.parquet", synthetic[0]), mixed / "part-00009.parquet")
    with pytest.raises(EolinkedError, match="different kinds"):
        read_features(mixed)


def test_interlink_reads_spark_output_directories(tmp_path, synthetic):
    src, tgt = synthetic
    want = tmp_path / "want.nt"
    interlink(src, tgt, str(want), processes=1)
    sd = _spark_dir(tmp_path / "s.nt", ["".join(rdf_lines(src).to_pylist()).encode()], ".nt")
    td = _spark_dir(tmp_path / "t.nt", ["".join(rdf_lines(tgt).to_pylist()).encode()], ".nt", gz=True)
    out = tmp_path / "got.nt"
    interlink(str(sd), str(td), str(out), processes=1)
    assert read_links(out) == read_links(want)


def test_no_overlap_note_names_both_extents(tmp_path):
    src = features([shapely.box(9.5, 47.1, 9.6, 47.2)], "s")
    swapped = features([shapely.box(47.1, 9.5, 47.2, 9.6)], "t")  # latitude first, read as lon/lat
    s = interlink(src, swapped, str(tmp_path / "l.nt"), processes=1)
    note = [n for n in s.notes if "do not overlap" in n]
    assert s.candidates == 0 and len(note) == 1
    assert "lon 9.5 .. 9.6, lat 47.1 .. 47.2 in CRS84" in note[0] and "lon 47.1 .. 47.2" in note[0]
    assert "swapped" in note[0]
    far = features([shapely.box(-60.0, -10.0, -59.0, -9.0)], "t")
    note = [n for n in interlink(src, far, str(tmp_path / "l.nt"), processes=1).notes if "do not overlap" in n]
    assert "different regions" in note[0] and "wrong CRS or axis order" in note[0]
    near = features([shapely.Point(9.61, 47.15)], "t")  # 760 m east: overlaps once grown by 1 km
    assert not [n for n in interlink(src, near, str(tmp_path / "l.nt"), within_distance=1000,
                                     processes=1).notes if "do not overlap" in n]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_get_the_normal_file_mode(tmp_path, synthetic, umask):
    old = os.umask(umask)
    try:
        interlink(*synthetic, str(tmp_path / "l.nt.gz"), pairs=str(tmp_path / "p.parquet"), processes=1)
    finally:
        os.umask(old)
    for name in ("l.nt.gz", "p.parquet"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
