"""CRS IRIs, authority axis order and vectorised reprojection/axis swapping of shapely arrays.

Geometries passed around in eolinked are always in *traditional* x/y order
(lon/lat, easting/northing), as pyproj's ``always_xy=True`` defines it; only the
lexical forms of literals use the axis order the CRS authority defines.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely
from pyproj.exceptions import CRSError

from eolinked.errors import EolinkedError

CRS84_IRI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_DEF = "http://www.opengis.net/def/crs/"
_IRI = re.compile(r"^https?://(?:www\.)?opengis\.net/def/crs/([^/]+)/([^/]+)/([^/?#]+)/?$")
_LEGACY_EPSG = re.compile(r"^https?://(?:www\.)?opengis\.net/gml/srs/epsg\.xml#(\d+)$")
_OGC_1_3 = {"CRS27", "CRS83", "CRS84"}  # codes registered under OGC/1.3; the rest under OGC/0
_LONLAT_EPSG = {"4326": "CRS84", "4979": "CRS84h"}  # EPSG codes whose lon/lat twin is an OGC CRS
_NUM = r"(?i:-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf(?:inity)?|nan))"
_WKT_PAIR = rf"([(,] ?)({_NUM}) ({_NUM})"  # first two ordinates of a coordinate tuple in GEOS WKT


def _key(crs) -> str:
    """A hashable string standing for ``crs`` (srs text, ``EPSG:n`` or IRI) for the caches."""
    if isinstance(crs, pyproj.CRS):
        return crs.srs or crs.to_wkt()
    if isinstance(crs, (int, np.integer)) and not isinstance(crs, bool):
        return f"EPSG:{int(crs)}"
    if isinstance(crs, str) and crs.strip():
        return crs.strip()
    if hasattr(crs, "to_wkt"):  # rasterio / osgeo-like CRS objects
        return crs.to_wkt()
    raise EolinkedError(f"cannot read a CRS from {crs!r}",
                        hint="give a pyproj.CRS, 'EPSG:4326', an EPSG code, WKT/PROJJSON or a CRS IRI")


@lru_cache(maxsize=256)
def _crs(key: str) -> pyproj.CRS:
    if key.startswith(("http://", "https://")):
        return iri_to_crs(key)
    try:
        return pyproj.CRS.from_user_input(key)
    except CRSError as exc:
        raise EolinkedError(f"unknown CRS {key[:120]!r}: {exc}",
                            hint="give an EPSG code, WKT/PROJJSON or a CRS IRI pyproj understands") from None


def as_crs(crs) -> pyproj.CRS:
    """``crs`` (any accepted form, see :func:`crs_to_iri`) as a cached ``pyproj.CRS``."""
    return _crs(_key(crs))


def iri_to_crs(iri: str) -> pyproj.CRS:
    """The ``pyproj.CRS`` an OGC CRS IRI (``.../EPSG/0/4326``, ``.../OGC/1.3/CRS84``, ...) names."""
    iri = iri.strip().strip("<>")
    m, legacy = _IRI.match(iri), _LEGACY_EPSG.match(iri)
    if m:
        auth, version, code = m.groups()
        spec = f"{auth}_{version}:{code}" if auth == "IAU" else f"{auth}:{code}"
    else:
        spec = f"EPSG:{legacy.group(1)}" if legacy else iri
    try:
        return pyproj.CRS.from_user_input(spec)
    except CRSError:
        raise EolinkedError(f"unknown CRS IRI <{iri}>",
                            hint="use an OGC CRS IRI such as <http://www.opengis.net/def/crs/EPSG/0/4326> "
                                 f"or <{CRS84_IRI}>") from None


@lru_cache(maxsize=256)
def _iri(key: str) -> str | None:
    crs = _crs(key)
    name, code = crs.to_authority(min_confidence=70) or (None, None)
    if name not in ("EPSG", "OGC", "IAU_2015"):
        name, code = crs.to_authority("EPSG", min_confidence=70) or (None, None)
    if name == "EPSG":
        if code in _LONLAT_EPSG and not _northing_first(crs):
            name, code = "OGC", _LONLAT_EPSG[code]
        else:
            return f"{_DEF}EPSG/0/{code}"
    if name == "OGC":
        return f"{_DEF}OGC/{'1.3' if code in _OGC_1_3 else '0'}/{code}"
    if name == "IAU_2015":
        return f"{_DEF}IAU/2015/{code}"
    return None


def crs_to_iri(crs) -> str | None:
    """The OGC IRI of ``crs`` (pyproj.CRS, ``"EPSG:4326"``, int code, WKT/PROJJSON or IRI).

    EPSG CRSs give ``.../EPSG/0/<code>`` (identified WKT, e.g. from a .prj, with
    confidence >= 70), EPSG:4326 in lon/lat order and OGC:CRS84 give
    :data:`CRS84_IRI`, other OGC codes ``.../OGC/0/<code>`` (``OGC/1.3`` for the
    CRS27/83/84 registered there); None when no resolvable authority code exists.
    """
    return _iri(_key(crs))


def _northing_first(crs: pyproj.CRS) -> bool:
    axes = crs.axis_info
    if len(axes) < 2:
        return False
    d0, d1 = axes[0].direction.lower(), axes[1].direction.lower()
    if d0 in ("north", "south") and d1 in ("east", "west"):
        return True
    # polar CRSs (both axes "south"/"north" along meridians): PROJ decides by the meridians, which
    # pyproj does not expose; the abbreviation ("N" for EPSG:32661, "E" for EPSG:5041) gives the same answer
    return d0 == d1 and d0 in ("north", "south") and axes[0].abbrev.upper().startswith("N")


@lru_cache(maxsize=256)
def _northing_first_key(key: str) -> bool:
    iri = _iri(key)
    return _northing_first(iri_to_crs(iri) if iri else _crs(key))


def is_northing_first(crs) -> bool:
    """True when the authority definition of ``crs`` puts north/latitude (or southing) first."""
    return _northing_first_key(_key(crs))


def _geoms(geoms) -> np.ndarray:
    return np.asarray(geoms, dtype=object).reshape(-1)


def _swap(coords: np.ndarray) -> np.ndarray:
    out = coords.copy()
    out[:, [0, 1]] = coords[:, [1, 0]]
    return out


def _swap_text(geoms: np.ndarray) -> np.ndarray:
    """Swap x/y of M geometries through exact WKT text (shapely.transform cannot carry M)."""
    text = pa.array(shapely.to_wkt(geoms, rounding_precision=25), pa.string())
    return shapely.from_wkt(pc.replace_substring_regex(text, _WKT_PAIR, r"\1\3 \2").to_numpy(zero_copy_only=False))


def swap_xy(geoms) -> np.ndarray:
    """Swap the first two coordinates of every geometry; Z and M are kept, nulls pass through.

    Geometries without M go through one vectorised ``shapely.transform``; those
    with M (which ``shapely.transform`` would drop) take an exact WKT round trip.
    """
    g = _geoms(geoms)
    m = shapely.has_m(g)
    if not m.any():
        return shapely.transform(g, _swap, include_z=True)
    out = g.copy()
    out[~m] = shapely.transform(g[~m], _swap, include_z=True)
    out[m] = _swap_text(g[m])
    return out


def drop_m(geoms) -> np.ndarray:
    """``geoms`` without M ordinates (Z kept)."""
    g = _geoms(geoms)
    m = shapely.has_m(g)
    if not m.any():
        return g
    g, z = g.copy(), m & shapely.has_z(g)
    g[m & ~z] = shapely.force_2d(g[m & ~z])
    if z.any():
        coords = shapely.get_coordinates(g[z], include_z=True)
        g[z] = shapely.set_coordinates(shapely.force_3d(g[z]), coords)
    return g


def _transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached transformer for this thread (PROJ objects must not cross threads)."""
    return _thread_transformer(src, dst, threading.get_ident())


@lru_cache(maxsize=256)
def _thread_transformer(src: str, dst: str, thread: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(_crs(src).to_wkt(), _crs(dst).to_wkt(), always_xy=True)


def reproject(geoms, src_crs, dst_crs) -> np.ndarray:
    """Reproject x/y-ordered geometries from ``src_crs`` to ``dst_crs`` (x/y order out).

    Z is transformed and kept; M is dropped (shapely cannot rebuild M coordinates).
    Coordinates that fail to transform raise :class:`EolinkedError`.
    """
    g = drop_m(geoms)
    src, dst = _key(src_crs), _key(dst_crs)
    if src == dst or _crs(src).equals(_crs(dst), ignore_axis_order=True):
        return g.copy()
    tr = _transformer(src, dst)

    def fn(coords: np.ndarray) -> np.ndarray:
        out = np.column_stack(tr.transform(*coords.T))
        bad = np.isfinite(coords[:, :2]).all(1) & ~np.isfinite(out[:, :2]).all(1)
        if bad.any():
            raise EolinkedError(f"{int(bad.sum())} coordinate(s) cannot be reprojected from {src[:80]} to {dst[:80]}, "
                                f"first {tuple(coords[bad][0])}",
                                hint="check the source CRS and that coordinates are in x/y (lon/lat) order")
        return out

    z = shapely.has_z(g)
    out = np.empty_like(g)
    out[z] = shapely.transform(g[z], fn, include_z=True)
    out[~z] = shapely.transform(g[~z], fn, include_z=False)
    return out


def normalise_source_crs(crs) -> tuple[pyproj.CRS, bool, str | None]:
    """(CRS to write literals in, whether to reproject to it, note) for a source file's CRS.

    A CRS with an authority IRI is kept; a custom one maps to CRS84 (reproject)
    because a literal needs a resolvable CRS IRI; no CRS means CRS84 is assumed.
    """
    crs84 = _crs("OGC:CRS84")
    if crs is None:
        return crs84, False, "no CRS, assuming CRS84"
    src = as_crs(crs)
    if crs_to_iri(src) is not None:
        return src, False, None
    return crs84, True, (f"custom CRS {src.name!r} has no authority code; geometries reprojected to CRS84 "
                         "because a geometry literal needs a resolvable CRS IRI")
