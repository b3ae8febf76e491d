"""The kg-construct RML test cases (legacy rml.io CSV/JSON, RML-Core, RML-FNML), read in place."""
from __future__ import annotations

from pathlib import Path

import pytest

from eolinked.errors import EolinkedError
from geotriples.runner import transform

from .rml_cases import RML, cases, same_dataset


@pytest.mark.skipif(not RML.is_dir(), reason="../shared/conformance/rml is not there (CI has it)")
@pytest.mark.parametrize("case_dir,error,base", cases())
def test_rml_case(case_dir: Path, error: bool, base: str | None, tmp_path):
    out = tmp_path / "out.nq"
    if error:
        with pytest.raises(EolinkedError):
            transform(str(case_dir / "mapping.ttl"), str(out), base_iri=base)
        assert not out.exists(), "a failed run must not leave an output file"
        return
    transform(str(case_dir / "mapping.ttl"), str(out), base_iri=base)
    assert same_dataset(case_dir / "output.nq", out), out.read_text()
