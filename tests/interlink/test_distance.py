"""Distance links: the MBR margin loses no pair; distances are the exact geodesic minimum (lon/lat)
or Cartesian (metres), checked against an independent brute force and against the store's
geof:distance, on generated data and on OpenStreetMap polygons x lines in Liechtenstein."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyoxigraph as ox
import pyproj
import pytest
import shapely

from eolinked.crs import CRS84_IRI
from eolinked.errors import EolinkedError
from eolinked.geosparql import GEO_SCALARS
from eolinked.literals import wkt_literals
from eolinked.terms import Terms
from eolinked.vocab import GEOF, UOM, WKT_LITERAL
from interlink import interlink
from interlink.distance import distances, expand
from interlink.writer import DISTANCE, WITHIN_DISTANCE
from tests.eolinked.geodesic_reference import brute_distance, brute_distances, tolerance

from .linkdata import features, osm_layer, read_links

EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
WGS84 = pyproj.Geod(ellps="WGS84")


def _cloud(rng, n, x0, y0, spread, polys=0.3, size=1.0):
    xy = rng.uniform(0, spread, (n, 2)) + (x0, y0)
    g = shapely.points(xy)
    k = rng.random(n) < polys
    g[k] = shapely.buffer(g[k], size * rng.uniform(0.2, 1, k.sum()), quad_segs=2)
    return g


def _all_pairs(src, tgt, metres, crs):
    """Links over the whole cross product, no filter at all."""
    a, b = np.repeat(src.geoms, len(tgt)), np.tile(tgt.geoms, len(src))
    d = distances(a, b, crs)
    si, ti = np.repeat(np.arange(len(src)), len(tgt)), np.tile(np.arange(len(tgt)), len(src))
    s, t = np.array(src.ids.to_pylist()), np.array(tgt.ids.to_pylist())
    hit = d <= metres
    return {(x, "withinDistance", y) for x, y in zip(s[si[hit]], t[ti[hit]])}


def store_distance(a, b, crs=CRS84_IRI) -> np.ndarray:
    """The store's geof:distance(a, b, uom:metre) on literals that read back to exactly ``a`` and ``b``."""
    ta = Terms.literals(wkt_literals(np.asarray(a, object), crs), WKT_LITERAL)
    tb = Terms.literals(wkt_literals(np.asarray(b, object), crs), WKT_LITERAL)
    out = GEO_SCALARS[GEOF + "distance"](ta, tb, Terms.iris([UOM + "metre"] * len(a)))
    return np.array([float(v) for v in out.value.to_pylist()])


def test_projected_metres(tmp_path):
    rng = np.random.default_rng(5)
    src = features(_cloud(rng, 150, 4_000_000, 3_000_000, 400, size=8), "s", "EPSG:3035")
    tgt = features(_cloud(rng, 150, 4_000_000, 3_000_000, 400, polys=0), "t", "EPSG:3035")
    a, b = np.repeat(src.geoms, len(tgt)), np.tile(tgt.geoms, len(src))
    assert np.array_equal(distances(a, b, "EPSG:3035"), shapely.distance(a, b))  # metres: Cartesian
    want = _all_pairs(src, tgt, 10, "EPSG:3035")
    assert want
    s = interlink(src, tgt, str(tmp_path / "d.nt"), within_distance=10, processes=1)
    assert read_links(tmp_path / "d.nt") == want and s.linked_pairs == len(want)


@pytest.mark.parametrize("lat", [0.0, 60.0, 89.9])
def test_geographic_margin_loses_no_pair(tmp_path, lat):
    rng = np.random.default_rng(int(lat))
    src = features(_cloud(rng, 120, 10.0, lat - 0.002, 0.004, size=1e-4), "s")
    tgt = features(_cloud(rng, 120, 10.0, lat - 0.002, 0.004, polys=0), "t")
    want = _all_pairs(src, tgt, 50, CRS84_IRI)
    assert want
    interlink(src, tgt, str(tmp_path / "d.nt"), within_distance=50, index="strtree", processes=1)
    assert read_links(tmp_path / "d.nt") == want


def _shapes(rng, x0, y0, n):
    """Points, lines and polygons of tens of metres scattered over ~300 m around (x0, y0)."""
    out = []
    for _ in range(n):
        cx, cy = x0 + rng.uniform(0, 3e-3) / np.cos(np.radians(y0)), y0 + rng.uniform(0, 3e-3)
        pts = np.column_stack([cx + rng.normal(0, 2e-4, 5) / np.cos(np.radians(y0)), cy + rng.normal(0, 2e-4, 5)])
        kind = rng.integers(0, 3)
        out.append(shapely.Point(pts[0]) if kind == 0 else
                   shapely.LineString(pts) if kind == 1 else shapely.convex_hull(shapely.MultiPoint(pts)))
    return out


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0])
def test_links_and_distances_equal_the_brute_force(tmp_path, lat):
    """Random points, lines and polygons near each other: the links within 100 m are exactly the
    pairs whose brute-force distance is, and il:distanceMetres is geof:distance to the bit."""
    rng = np.random.default_rng(int(lat) + 7)
    src, tgt = features(_shapes(rng, 20.0, lat, 30), "s"), features(_shapes(rng, 20.0, lat, 30), "t")
    a, b = np.repeat(src.geoms, len(tgt)), np.tile(tgt.geoms, len(src))
    ref = brute_distances(a, b, prune=True)
    exact = distances(a, b, CRS84_IRI)
    assert (exact <= ref + 1e-6).all() and (ref - exact <= tolerance(exact)).all()
    metres = 100.0
    assert not (np.abs(ref - metres) < 0.01).any()  # no pair so close to the limit that the brute force cannot tell
    si, ti = np.repeat(np.arange(len(src)), len(tgt)), np.tile(np.arange(len(tgt)), len(src))
    near = ref <= metres
    assert 50 < near.sum() < len(ref) - 50
    out, pairs = tmp_path / "near.nt", tmp_path / "near.parquet"
    interlink(src, tgt, str(out), within_distance=metres, distance_value=True, pairs=str(pairs), processes=1)
    sid, tid = np.array(src.ids.to_pylist()), np.array(tgt.ids.to_pylist())
    assert {(s, t) for s, w, t in read_links(out) if w == "withinDistance" and not s.startswith("_:")} \
        == set(zip(sid[si[near]], tid[ti[near]]))
    got = pq.read_table(pairs).to_pydict()
    index = {(s, t): k for k, (s, t) in enumerate(zip(sid[si], tid[ti]))}
    rows = np.array([index[st] for st in zip(got["source"], got["target"])])
    assert np.array_equal(np.array(got["distance_m"]), exact[rows])
    assert np.array_equal(store_distance(a[rows], b[rows]), exact[rows])


def test_point_distances_are_geodesic():
    a, b = shapely.points([[10, 60], [0, 0]]), shapely.points([[10.001, 60.0005], [0, 0]])
    want = WGS84.inv([10, 0], [60, 0], [10.001, 0], [60.0005, 0])[2]
    np.testing.assert_allclose(distances(a, b, CRS84_IRI), want, rtol=1e-12, atol=1e-9)


def test_expand_is_safe_near_poles_and_in_metres():
    b = np.array([[10.0, 89.99, 10.0, 89.99]])
    assert (expand(b, 5000, True)[0, [0, 2]] == [-350, 370]).all()
    assert expand(np.zeros((1, 4)), 100, False, unit=0.3048)[0, 2] == pytest.approx(100 * 1.01 / 0.3048)


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0, 85.0])
def test_expand_covers_every_point_within_the_distance(lat):
    """Points at exactly d from the box corners, in every direction, lie in the grown box."""
    d = 5000.0
    box = np.array([[10.0, lat, 10.01, lat + 0.01]])
    grown = expand(box, d, True)[0]
    az = np.linspace(0, 360, 721)
    for x, y in ((10.0, lat), (10.01, lat), (10.0, lat + 0.01), (10.01, lat + 0.01)):
        lon, la, _ = WGS84.fwd(np.full(len(az), x), np.full(len(az), y), az, np.full(len(az), d))
        assert ((lon >= grown[0]) & (lon <= grown[2]) & (la >= grown[1]) & (la <= grown[3])).all()


def test_distance_value_is_reified(tmp_path):
    src = features(shapely.points([[10, 50]]), "s")
    tgt = features(shapely.points([[10.0001, 50], [11, 50]]), "t")
    out = tmp_path / "d.nt"
    interlink(src, tgt, str(out), within_distance=20, distance_value=True, processes=1)
    triples = list(ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES))
    links = [t for t in triples if t.predicate.value == WITHIN_DISTANCE]
    assert [(t.subject.value, t.object.value) for t in links] == [("http://ex.org/s/0", "http://ex.org/t/0")]
    value = [float(t.object.value) for t in triples if t.predicate.value == DISTANCE]
    want = WGS84.inv(10, 50, 10.0001, 50)[2]
    assert value == [pytest.approx(want)] and len(triples) == 6


def test_negative_distance_is_refused(synthetic):
    with pytest.raises(EolinkedError, match="--within-distance must be"):
        interlink(*synthetic, within_distance=-1, pairs="x.csv")


# -- real data: OpenStreetMap, Liechtenstein ---------------------------------------------------
LIMIT = 1000.0
BAND = 0.05  # metres: pairs this close to the limit in the UTM check go to the brute force


@pytest.fixture(scope="module")
def osm_li(shared_data):
    pbf = shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} not found")
    return osm_layer(pbf, "multipolygons", None), osm_layer(pbf, "lines", None, columns=("osm_id",))


def _utm_check(polys, lines, radius):
    """An independent metric view: both datasets densified to 50 m in lon/lat (so edges stay
    straight to 0.1 mm), projected to UTM 32N, GEOS distances of the pairs within ``radius``,
    divided by the UTM scale factor in the middle of their shortest line (it varies by less than
    1e-6 along a kilometre here). Returns (polygon index, line index, metres)."""
    tr = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:32632", always_xy=True)

    def utm(g):
        return shapely.transform(shapely.segmentize(g, 50 / 111_700), lambda c: np.column_stack(tr.transform(*c.T)))
    P, L = utm(polys.geoms), utm(lines.geoms)
    j, i = shapely.STRtree(P).query(L, predicate="dwithin", distance=radius)
    u = shapely.distance(P[i], L[j])
    mid = shapely.get_coordinates(shapely.line_interpolate_point(shapely.shortest_line(P[i], L[j]), 0.5,
                                                                 normalized=True))
    lon, lat = tr.transform(mid[:, 0], mid[:, 1], direction="INVERSE")
    k = pyproj.Proj("EPSG:32632").get_factors(lon, lat).meridional_scale
    return i, j, u / k


def _distance_links(path):
    """(source index, target index, il:distanceMetres) of a --distance-value output, from the
    reification nodes _:d<i>x<j>, read with Arrow (no per-line Python)."""
    lines = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=["line"]),
                           parse_options=pacsv.ParseOptions(delimiter="\x01", quote_char=False),
                           convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}))["line"]
    hit = lines.filter(pc.match_substring(lines, f"<{DISTANCE}>"))
    parts = pc.extract_regex(hit, r'^_:d(?P<i>\d+)x(?P<j>\d+) \S+ "(?P<v>[^"]+)"')
    return tuple(pc.struct_field(parts, k).to_numpy(zero_copy_only=False) for k in ("i", "j", "v"))


def test_osm_polygons_x_lines_within_1km(tmp_path, osm_li):
    """All OSM multipolygons x all lines of Liechtenstein within 1 km: the links are exactly the
    pairs within 1000 m (decided by the UTM check, and by the brute force for every pair within
    5 cm of the limit there), and every il:distanceMetres equals the store's geof:distance."""
    polys, lines = osm_li
    out = tmp_path / "near.nt"
    summary = interlink(polys, lines, str(out), within_distance=LIMIT, distance_value=True, processes=1)
    i, j, text = _distance_links(out)
    i, j, got = i.astype(np.int64), j.astype(np.int64), text.astype(float)
    assert summary.linked_pairs == len(i) > 100_000

    pi, lj, metres = _utm_check(polys, lines, LIMIT + 1)
    close = np.abs(metres - LIMIT) <= BAND
    ref = brute_distances(polys.geoms[pi[close]], lines.geoms[lj[close]], prune=True)
    assert close.sum() > 10
    inside = metres <= LIMIT
    inside[close] = ref <= LIMIT
    want = set(zip(pi[inside].tolist(), lj[inside].tolist()))
    linked = set(zip(i.tolist(), j.tolist()))
    assert linked == want, (sorted(linked - want)[:5], sorted(want - linked)[:5])

    # il:distanceMetres is the store's geof:distance on the same pair (literals in EPSG:4326)
    rng = np.random.default_rng(1)
    sample = rng.choice(len(i), 20_000, replace=False)
    store = store_distance(polys.geoms[i[sample]], lines.geoms[j[sample]], EPSG4326)
    assert np.array_equal(store, got[sample])
    # and the brute force: every pair near the limit, and a sample of others
    at = {(a, b): k for k, (a, b) in enumerate(zip(i.tolist(), j.tolist()))}
    near = [(a, b, r) for a, b, r in zip(pi[close].tolist(), lj[close].tolist(), ref) if (a, b) in at]
    picks = sample[:40]
    more = brute_distances(polys.geoms[i[picks]], lines.geoms[j[picks]], prune=True)
    ours = np.array([got[at[(a, b)]] for a, b, _ in near] + got[picks].tolist())
    brute = np.array([r for _, _, r in near] + more.tolist())
    assert (ours <= brute + 1e-6).all() and (brute - ours <= tolerance(ours)).all()

