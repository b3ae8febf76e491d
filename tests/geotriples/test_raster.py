"""geotriples.sources.raster: strip-wise polygonisation equals polygonising the whole raster at once."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio import features

from eolinked.errors import EolinkedError
from geotriples.sources import raster as rastermod
from geotriples.sources.raster import raster_info, read_raster_classes

UTM = Affine(10, 0, 500000, 0, -10, 4000000)


def write_tif(path, a, nodata=255, transform=UTM, crs="EPSG:32633"):
    with rasterio.open(path, "w", driver="GTiff", width=a.shape[1], height=a.shape[0], count=1, dtype=a.dtype,
                       crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(a, 1)
    return path


def reference(path, connectivity=4, skip_values=()):
    """Whole-raster polygons; counts and first pixels from rasterising them back (independent of the reader)."""
    with rasterio.open(path) as ds:
        a, valid, t = ds.read(1), ds.read_masks(1) != 0, ds.transform
    valid &= ~np.isin(a, list(skip_values))
    codes = a if a.dtype.name in ("uint8", "uint16", "int16", "int32") else np.where(valid, a, 0).astype(np.int32)
    items = list(features.shapes(codes, mask=valid, connectivity=connectivity, transform=t))
    labels = features.rasterize([(g, i) for i, (g, _) in enumerate(items)], out_shape=a.shape, transform=t,
                                fill=-1, dtype="int32")
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    rows, cols = np.divmod(first[ids >= 0], a.shape[1])
    out = {}
    for i, (g, _) in enumerate(items):
        out[f"r{rows[i]}c{cols[i]}"] = (int(a[rows[i], cols[i]]), int(counts[ids >= 0][i]), shapely.geometry.shape(g))
    return out, int(valid.sum())


def regions(tables):
    t = pa.concat_tables(tables)
    geoms = shapely.from_wkb(np.asarray(t.column("geometry").to_numpy(zero_copy_only=False)))
    out = dict(zip(t.column("region").to_pylist(), zip(t.column("value").to_pylist(),
                                                         t.column("pixel_count").to_pylist(), geoms)))
    assert len(out) == t.num_rows  # region ids are unique
    return out


def assert_matches(path, connectivity=4, strips=(1, 3, None), skip_values=None):
    ref, n_valid = reference(path, connectivity, skip_values or ())
    keys = sorted(ref)
    want = np.array([ref[k][2] for k in keys])
    if connectivity == 8:  # GDAL's 8-connected rings touch themselves; the reader emits valid geometries
        want = shapely.make_valid(want)
    for strip_rows in strips:
        got = regions(read_raster_classes(path, connectivity=connectivity, strip_rows=strip_rows,
                                          skip_values=skip_values, batch_size=50))
        assert sorted(got) == keys
        assert [got[k][:2] for k in keys] == [ref[k][:2] for k in keys]
        assert sum(c for _, c, _ in got.values()) == n_valid
        geoms = np.array([got[k][2] for k in keys])
        assert shapely.is_valid(geoms).all()
        assert shapely.equals(geoms, want).all(), strip_rows
    return ref


def designed(h=24, w=30):
    """Background 0 with a serpentine (U and inverted-U turns), a ring with a hole and an island,
    a checkerboard (diagonal-only contacts), and nodata (255) cutting a region."""
    a = np.zeros((h, w), np.uint8)
    for i, c in enumerate(range(1, 12, 2)):  # vertical bars joined alternately at the bottom and the top
        a[1:h - 1, c] = 1
        a[h - 2 if i % 2 == 0 else 1, c:c + 3] = 1
    a[2:12, 14:24] = 2  # ring
    a[4:10, 16:22] = 3  # hole filled by class 3 ...
    a[6:8, 18:20] = 2  # ... with an island of class 2 (a separate region)
    a[14:20, 14:20] = 4 + (np.indices((6, 6)).sum(0) % 2)  # checkerboard of 4/5
    a[13:22, 25:28] = 6
    a[17, 24:29] = 255  # nodata line splitting the class-6 block
    a[0, :] = 255
    return a


def test_designed_raster_connectivity_4(tmp_path):
    path = write_tif(tmp_path / "designed.tif", designed())
    ref = assert_matches(path, strips=(1, 2, 3, 5, None))
    snake = [k for k, v in ref.items() if v[0] == 1]
    assert len(snake) == 1 and ref[snake[0]][1] == (designed() == 1).sum()  # one region across all strips
    assert sum(v[0] == 2 for v in ref.values()) == 2  # ring and island stay apart
    assert sum(v[0] in (4, 5) for v in ref.values()) == 36  # diagonal contacts do not join
    assert sum(v[0] == 6 for v in ref.values()) == 2  # split by nodata
    ring = next(v[2] for v in ref.values() if v[0] == 2 and v[1] > 4)
    assert len(ring.interiors) == 1


def test_designed_raster_connectivity_8(tmp_path):
    path = write_tif(tmp_path / "designed.tif", designed())
    ref = assert_matches(path, connectivity=8, strips=(1, 3, None))
    assert sum(v[0] in (4, 5) for v in ref.values()) == 2  # the checkerboard joins diagonally


@pytest.mark.parametrize("seed", range(6))
def test_random_rasters(tmp_path, seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(8, 40, 2)
    a = rng.integers(0, rng.integers(2, 5), (h, w)).astype(np.uint8)
    a = np.repeat(a, 2, axis=0)[:h] if seed % 2 else a  # taller blobs every other seed
    a[rng.random(a.shape) < 0.08] = 255
    path = write_tif(tmp_path / "random.tif", a)
    assert_matches(path, connectivity=4 if seed < 4 else 8, strips=(1, 3, 7, None))


def test_rotated_transform_and_value_types(tmp_path):
    rng = np.random.default_rng(9)
    base = rng.integers(0, 3, (20, 25))
    rotated = Affine(0.5, 0.1, 651234.25, 0.05, -0.5, 5123456.75)
    assert_matches(write_tif(tmp_path / "rot.tif", base.astype(np.uint8), transform=rotated), strips=(3, None))
    big = (base * 1_500_000_000).astype(np.uint32)  # beyond int32: codes are remapped
    ref = assert_matches(write_tif(tmp_path / "u32.tif", big, nodata=7), strips=(3,))
    assert {v[0] for v in ref.values()} == {0, 1_500_000_000, 3_000_000_000}
    assert_matches(write_tif(tmp_path / "i16.tif", (base - 1).astype(np.int16), nodata=-9999), strips=(3,))
    floats = base.astype(np.float32)
    floats[5, 5] = np.nan
    assert_matches(write_tif(tmp_path / "f32.tif", floats, nodata=np.nan), strips=(3,))


def test_skip_values_and_batches(tmp_path):
    path = write_tif(tmp_path / "designed.tif", designed())
    ref = assert_matches(path, strips=(3,), skip_values=[0, 3])
    assert {v[0] for v in ref.values()} == {1, 2, 4, 5, 6}
    tables = list(read_raster_classes(path, strip_rows=2, batch_size=5))
    assert all(t.num_rows <= 5 for t in tables) and all(t.schema == rastermod.SCHEMA for t in tables)
    assert sum(t.num_rows for t in tables[:-1]) == 5 * (len(tables) - 1)


def test_default_strip_height(tmp_path, monkeypatch):
    path = write_tif(tmp_path / "designed.tif", designed())
    monkeypatch.setattr(rastermod, "_STRIP_BYTES", 4 * 30 * 2)  # 4 rows of uint8 + mask per strip
    assert_matches(path, strips=(None,))


def test_raster_info(tmp_path):
    path = write_tif(tmp_path / "designed.tif", designed())
    info = raster_info(path)
    assert (info.width, info.height, info.dtype, info.nodata, info.count) == (30, 24, "uint8", 255, 1)
    assert info.transform == UTM and info.crs.equals(pyproj.CRS("EPSG:32633"))


def test_errors(tmp_path):
    with pytest.raises(EolinkedError, match="no such file"):
        read_raster_classes(tmp_path / "missing.tif")
    path = write_tif(tmp_path / "designed.tif", designed())
    with pytest.raises(EolinkedError, match="no band 2") as exc:
        read_raster_classes(path, band=2)
    assert "1 band" in exc.value.hint
    with pytest.raises(EolinkedError, match="connectivity"):
        read_raster_classes(path, connectivity=6)
    fractional = write_tif(tmp_path / "f.tif", np.full((4, 4), 1.5, np.float32), nodata=None)
    with pytest.raises(EolinkedError, match="non-integer"):
        list(read_raster_classes(fractional))
    junk = tmp_path / "junk.tif"
    junk.write_text("not a tiff")
    with pytest.raises(EolinkedError, match="cannot read raster") as exc:
        raster_info(junk)
    assert str(junk) in str(exc.value)


def _strips_apart(path, cuts, connectivity):
    """Strips polygonised independently (as Spark tasks do), then their open regions merged."""
    tables, states = [], []
    for r0, r1 in zip(cuts[:-1], cuts[1:]):
        table, state = rastermod.strip_regions(path, 1, r0, r1, connectivity)
        tables.append(table)
        states.append(state)
    tables.append(rastermod.merge_strips(path, states, connectivity))
    return pa.concat_tables([t for t in tables if t is not None]).sort_by("region")


@pytest.mark.parametrize("connectivity", [4, 8])
def test_strips_read_apart_equal_the_whole_raster_exactly(tmp_path, connectivity):
    rng = np.random.default_rng(connectivity)
    a = np.repeat(rng.integers(0, 3, (30, 27)).astype(np.uint8), 2, axis=0)
    a[rng.random(a.shape) < 0.05] = 255
    for path in (write_tif(tmp_path / "random.tif", a), write_tif(tmp_path / "designed.tif", designed())):
        whole = pa.concat_tables(read_raster_classes(path, connectivity=connectivity)).sort_by("region")
        height = raster_info(path).height
        for cuts in ([0, height], [0, 1, 2, height], [0, 7, 8, 20, height], list(range(0, height, 5)) + [height]):
            assert _strips_apart(path, cuts, connectivity).equals(whole), cuts  # WKB included, byte for byte
