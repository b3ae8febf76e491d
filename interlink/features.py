"""The dataset type the linker works on: feature IRIs, geometries and one CRS, cleaned on construction."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyproj
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError

SHOWN = 3  # feature IRIs named in a note


@dataclass
class Features:
    """A dataset to link: feature IRIs, shapely geometries (x/y order) and their one CRS."""
    ids: pa.StringArray
    geoms: np.ndarray
    crs: pyproj.CRS
    name: str = "<memory>"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def bounds(self) -> np.ndarray:
        return shapely.bounds(self.geoms)

    @classmethod
    def from_arrays(cls, ids, geoms, crs="OGC:CRS84", name: str = "<memory>", notes=None) -> Features:
        """Features from IRIs and geometries: invalid ones repaired, null/empty ones skipped (noted)."""
        ids = ids if isinstance(ids, pa.Array) else pa.array(list(ids), pa.string())
        geoms = np.asarray(geoms, dtype=object).reshape(-1)
        if len(ids) != len(geoms):
            raise EolinkedError(f"{len(ids)} ids but {len(geoms)} geometries", where=name)
        notes = list(notes or [])
        gone = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if gone.any():
            notes.append(f"skipped {int(gone.sum())} empty or missing geometries{examples(ids, gone)}")
            keep = pa.array(~gone)
            ids, geoms = ids.filter(keep), geoms[~gone]
        bad = ~shapely.is_valid(geoms)
        if bad.any():
            geoms = geoms.copy()
            geoms[bad] = shapely.make_valid(geoms[bad])
            notes.append(f"repaired {int(bad.sum())} invalid geometries with make_valid{examples(ids, bad)}")
        return cls(ids, geoms, crslib.as_crs(crs), name, notes)


def examples(ids: pa.Array, mask: np.ndarray) -> str:
    shown = ids.filter(pa.array(mask)).slice(0, SHOWN).to_pylist()
    return " (e.g. " + ", ".join(f"<{s}>" for s in shown) + ")" if shown else ""


