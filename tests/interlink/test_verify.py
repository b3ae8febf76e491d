"""DE-9IM -> relations: vectorised pattern matching equals GEOS's own predicates on every pair."""
import numpy as np
import pytest
import shapely

from eolinked.errors import EolinkedError
from interlink.verify import RELATIONS, holds, matrix_strings, parse_relations, relate

from .linkdata import make_synthetic, predicate


def test_every_relation_matches_geos_on_all_pairs():
    src, tgt = make_synthetic()
    g = np.array([x for x in src + tgt if not shapely.is_empty(x)], dtype=object)
    g = shapely.make_valid(g)
    a, b = np.repeat(g, len(g)), np.tile(g, len(g))
    names = tuple(RELATIONS)
    got = holds(relate(a, b), shapely.get_dimensions(a), shapely.get_dimensions(b), names)
    for k, name in enumerate(names):
        want = predicate(name, a, b)
        assert (got[:, k] == want).all(), (name, np.flatnonzero(got[:, k] != want)[:5])
    assert got.any(axis=0).all()  # the generated data exercise every relation


def test_matrix_round_trip():
    a = shapely.from_wkt(["POINT (0 0)", "LINESTRING (0 0, 1 1)"])
    b = shapely.from_wkt(["POINT (0 0)", "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))"])
    assert matrix_strings(relate(a, b)).tolist() == list(shapely.relate(a, b))


def test_equals_for_points_uses_sfa_pattern():
    p = shapely.from_wkt(["POINT (1 2)"])
    codes = relate(p, p)
    assert holds(codes, np.array([0]), np.array([0]), ("sfEquals", "sfTouches"))[0].tolist() == [True, False]


def test_eh_covers_needs_boundary_contact():
    outer = shapely.box(0, 0, 4, 4)
    inner_touching, inner_free = shapely.box(0, 0, 2, 2), shapely.box(1, 1, 2, 2)
    a = np.array([outer, outer], dtype=object)
    b = np.array([inner_touching, inner_free], dtype=object)
    got = holds(relate(a, b), np.array([2, 2]), np.array([2, 2]), ("ehCovers", "sfContains"))
    assert got.tolist() == [[True, True], [False, True]]


def test_parse_relations():
    assert parse_relations("all") == tuple(RELATIONS)
    assert parse_relations("intersects, geo:sfWithin,ehcovers") == ("sfIntersects", "sfWithin", "ehCovers")
    with pytest.raises(EolinkedError, match="unknown relation 'sfDisjoint'") as exc:
        parse_relations("sfIntersects,sfDisjoint")
    assert "sfTouches" in str(exc.value)
