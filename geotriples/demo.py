"""``eolinked demo``: generate-mapping + transform on data that installs with eolinked's dependencies."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .generate import generate_mapping
from .runner import transform

CROP_CODES = np.array([1, 2, 3, 4, 5, 6], dtype=np.uint8)  # e.g. wheat, maize, barley, rapeseed, grass, fallow


def natural_earth_countries() -> Path:
    """The Natural Earth low-resolution countries shapefile shipped in pyogrio's test fixtures."""
    import pyogrio

    path = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from this pyogrio installation")
    return path


def write_crop_raster(path: Path, size: int = 240, seed: int = 7) -> Path:
    """A crop-type classification raster: rectangular fields of random crop codes, 10 m pixels, UTM 33N."""
    import rasterio
    from affine import Affine

    rng = np.random.default_rng(seed)
    rows = np.cumsum(rng.integers(8, 40, size))
    cols = np.cumsum(rng.integers(8, 40, size))
    row_field = np.searchsorted(rows, np.arange(size), side="right")
    col_field = np.searchsorted(cols, np.arange(size), side="right")
    field_ids = row_field[:, None] * (size + 1) + col_field[None, :]
    codes = CROP_CODES[rng.integers(0, len(CROP_CODES), field_ids.max() + 1)][field_ids]
    codes[rng.random(codes.shape) < 0.002] = 0  # a few unclassified pixels
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint8", nodata=0,
                   crs="EPSG:32633", transform=Affine(10, 0, 500000, 0, -10, 5300000))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(codes, 1)
    return path


def run_demo(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inputs = [natural_earth_countries(), write_crop_raster(out / "crop_types.tif")]
    for src in inputs:
        stem = src.stem
        mapping = out / f"{stem}.rml.ttl"
        triples = out / f"{stem}.nt"
        described = generate_mapping(str(src), str(mapping), base_iri="http://example.com/eolinked-demo/")
        print(f"generate-mapping: {described} -> {mapping}")
        summary = transform(str(mapping), str(triples))
        print(f"transform: {summary.line()}")
        with open(triples, encoding="utf-8") as fh:
            for line, _ in zip(fh, range(3)):
                print("   ", line.rstrip()[:160])
    print(f"demo output in {os.path.abspath(out)}")
