"""Same mapping, same input: eolinked and morph-kgc (the peer, in .venv-peers) give the same triples."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest

from geotriples import transform

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / ".venv-peers" / "bin" / "python"
sys.path.insert(0, str(ROOT / "benchmarks"))
import transform as bench


@pytest.mark.skipif(not PEER.exists(), reason="morph-kgc peer venv not installed (make peers; CI installs it)")
def test_same_triples_as_morph_kgc(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "DATA", tmp_path)
    csv_path, _ = bench.generate(2000)
    mapping = bench.write_mapping(csv_path, True, tmp_path / "m.ttl")
    transform(str(mapping), str(tmp_path / "eolinked.nt"))
    config = tmp_path / "morph.ini"
    config.write_text(f"[CONFIGURATION]\noutput_file={tmp_path / 'morph.nt'}\n[DataSource1]\nmappings={mapping}\n")
    subprocess.run([str(PEER), "-m", "morph_kgc", str(config)], check=True, capture_output=True)
    ours = set(pyoxigraph.parse(path=str(tmp_path / "eolinked.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES))
    theirs = set(pyoxigraph.parse(path=str(tmp_path / "morph.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(ours) == 2000 * 7 and ours == theirs
