"""One CRS for both datasets before linking.

Rule: a ``crs`` the user asks for wins (both reprojected to it). Otherwise, if the target's
CRS equals the source's, nothing moves. Otherwise the target is reprojected into the
source's CRS when the target's extent lies inside the source CRS's area of use (so a
projected source keeps its metric, undistorted coordinates); when it does not, both go to
CRS84. In a geographic CRS relations are computed on lon/lat coordinates as planar
coordinates, as GeoSPARQL stores do.
"""
from __future__ import annotations

import numpy as np
import pyproj

from eolinked import crs as crslib

from .features import Features


def lonlat_extent(f: Features) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of a dataset in CRS84; None when empty or not transformable."""
    if len(f) == 0:
        return None
    b = f.bounds
    box = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    if f.crs.is_geographic and crslib.crs_to_iri(f.crs) == crslib.CRS84_IRI:
        return box
    tr = pyproj.Transformer.from_crs(f.crs, "OGC:CRS84", always_xy=True)
    out = tr.transform_bounds(*box)
    return out if np.isfinite(out).all() else None


def _inside(extent, crs: pyproj.CRS) -> bool:
    area = crs.area_of_use
    if area is None:
        return True  # a custom CRS: keep it, the user chose it for the source
    if extent is None:
        return False
    w, s, e, n = extent
    return area.west <= w and e <= area.east and area.south <= s and n <= area.north


def _move(f: Features, crs: pyproj.CRS) -> Features:
    if f.crs.equals(crs, ignore_axis_order=True):
        return f
    return Features(f.ids, crslib.reproject(f.geoms, f.crs, crs), crs, f.name, f.notes)


def align(source: Features, target: Features, crs=None) -> tuple[Features, Features, pyproj.CRS, str | None]:
    """(source, target, common CRS, note) with both datasets in the common CRS."""
    if crs is not None:
        common = crslib.as_crs(crs)
        note = f"both datasets compared in {common.name}"
    elif target.crs.equals(source.crs, ignore_axis_order=True):
        return source, target, source.crs, None
    elif _inside(lonlat_extent(target), source.crs):
        common = source.crs
        note = f"target reprojected from {target.crs.name} to the source CRS {common.name}"
    else:
        common = crslib.as_crs("OGC:CRS84")
        note = (f"target ({target.crs.name}) lies outside the area of use of the source CRS "
                f"({source.crs.name}): both compared in CRS84")
    return _move(source, common), _move(target, common), common, note


def metres_per_unit(crs: pyproj.CRS) -> float:
    """Metres per coordinate unit of a projected CRS (1 for metre CRSs)."""
    axes = crs.axis_info
    return float(axes[0].unit_conversion_factor) if axes else 1.0
