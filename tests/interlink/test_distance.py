"""Distance links: the MBR margin loses no pair; distances are geodesic (lon/lat) or Cartesian (metres)."""
import numpy as np
import pyoxigraph as ox
import pyproj
import pytest
import shapely

from eolinked.errors import EolinkedError
from interlink import interlink
from interlink.distance import distances, expand
from interlink.writer import DISTANCE, WITHIN_DISTANCE

from .linkdata import features, read_links


def _cloud(rng, n, x0, y0, spread, polys=0.3, size=1.0):
    xy = rng.uniform(0, spread, (n, 2)) + (x0, y0)
    g = shapely.points(xy)
    k = rng.random(n) < polys
    g[k] = shapely.buffer(g[k], size * rng.uniform(0.2, 1, k.sum()), quad_segs=2)
    return g


def _brute(src, tgt, metres, geod):
    a, b = np.repeat(src.geoms, len(tgt)), np.tile(tgt.geoms, len(src))
    d = distances(a, b, geod)
    si, ti = np.repeat(np.arange(len(src)), len(tgt)), np.tile(np.arange(len(tgt)), len(src))
    s, t = np.array(src.ids.to_pylist()), np.array(tgt.ids.to_pylist())
    hit = d <= metres
    return {(x, "withinDistance", y) for x, y in zip(s[si[hit]], t[ti[hit]])}, d


def test_projected_metres(tmp_path):
    rng = np.random.default_rng(5)
    src = features(_cloud(rng, 150, 4_000_000, 3_000_000, 400, size=8), "s", "EPSG:3035")
    tgt = features(_cloud(rng, 150, 4_000_000, 3_000_000, 400, polys=0), "t", "EPSG:3035")
    want, _ = _brute(src, tgt, 10, None)
    assert want
    s = interlink(src, tgt, str(tmp_path / "d.nt"), within_distance=10, processes=1)
    assert read_links(tmp_path / "d.nt") == want and s.linked_pairs == len(want)


@pytest.mark.parametrize("lat", [0.0, 60.0, 89.9])
def test_geographic_margin_loses_no_pair(tmp_path, lat):
    rng = np.random.default_rng(int(lat))
    src = features(_cloud(rng, 120, 10.0, lat - 0.002, 0.004, size=1e-4), "s")
    tgt = features(_cloud(rng, 120, 10.0, lat - 0.002, 0.004, polys=0), "t")
    want, _ = _brute(src, tgt, 50, pyproj.Geod(ellps="WGS84"))
    assert want
    interlink(src, tgt, str(tmp_path / "d.nt"), within_distance=50, index="strtree", processes=1)
    assert read_links(tmp_path / "d.nt") == want


def test_point_distances_are_geodesic():
    geod = pyproj.Geod(ellps="WGS84")
    a, b = shapely.points([[10, 60], [0, 0]]), shapely.points([[10.001, 60.0005], [0, 0]])
    want = geod.inv([10, 0], [60, 0], [10.001, 0], [60.0005, 0])[2]
    assert np.allclose(distances(a, b, geod), want)


def test_expand_is_safe_near_poles_and_in_metres():
    b = np.array([[10.0, 89.99, 10.0, 89.99]])
    assert (expand(b, 5000, True)[0, [0, 2]] == [-350, 370]).all()
    assert expand(np.zeros((1, 4)), 100, False, unit=0.3048)[0, 2] == pytest.approx(100 * 1.01 / 0.3048)


def test_distance_value_is_reified(tmp_path):
    src = features(shapely.points([[10, 50]]), "s")
    tgt = features(shapely.points([[10.0001, 50], [11, 50]]), "t")
    out = tmp_path / "d.nt"
    interlink(src, tgt, str(out), within_distance=20, distance_value=True, processes=1)
    triples = list(ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES))
    links = [t for t in triples if t.predicate.value == WITHIN_DISTANCE]
    assert [(t.subject.value, t.object.value) for t in links] == [("http://ex.org/s/0", "http://ex.org/t/0")]
    value = [float(t.object.value) for t in triples if t.predicate.value == DISTANCE]
    want = pyproj.Geod(ellps="WGS84").inv(10, 50, 10.0001, 50)[2]
    assert value == [pytest.approx(want)] and len(triples) == 6


def test_negative_distance_is_refused(synthetic):
    with pytest.raises(EolinkedError, match="--within-distance must be"):
        interlink(*synthetic, within_distance=-1, pairs="x.csv")
