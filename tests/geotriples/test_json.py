"""geotriples.sources.json: the Arrow fast path for simple keys agrees with the JSONPath walk."""
from __future__ import annotations

import json

import pytest

from eolinked.errors import EolinkedError
from geotriples.sources.json import JsonSource

RECORDS = [
    {"id": 1, "name": "Venus", "ok": True, "loc": {"city": "Linz", "zip": 4020}},
    {"id": 2, "name": "", "ok": False, "loc": {"city": None}},
    {"id": 3, "ok": None, "extra": "x"},
    {"id": 4, "name": "Zoë \"Q\"", "loc": None},
]


def _per_record(batch, ref):
    col = batch.table.column(ref).to_pylist()
    types = batch.types.get(ref)
    if types is None or isinstance(types, str):  # a plain column: one value or none per record
        return [[v] if v is not None else [] for v in col], [[types] if v is not None else [] for v in col]
    return col, types.to_pylist()


@pytest.mark.parametrize("fast,slow", [("$.id", "$['id']"), ("$.name", "$['name']"), ("$.ok", "$['ok']"),
                                       ("loc.city", "$['loc']['city']"), ("$.loc.zip", "$['loc']['zip']")])
def test_fast_path_matches_jsonpath(tmp_path, fast, slow):
    (tmp_path / "d.json").write_text(json.dumps({"items": RECORDS}))
    src = JsonSource(str(tmp_path / "d.json"), "$.items[*]")
    batch = next(iter(src.batches([fast, slow], 100)))
    assert not pa_is_list(batch, fast)  # took the fast path
    assert _per_record(batch, fast) == _per_record(batch, slow)


def pa_is_list(batch, ref):
    import pyarrow as pa

    return pa.types.is_list(batch.table.column(ref).type)


def test_reference_matching_nothing_is_an_error(tmp_path):
    (tmp_path / "d.json").write_text(json.dumps({"items": RECORDS}))
    src = JsonSource(str(tmp_path / "d.json"), "$.items[*]")
    with pytest.raises(EolinkedError, match="match nothing"):
        list(src.batches(["$.nmae"], 100))


def test_invalid_json_names_line(tmp_path):
    (tmp_path / "d.json").write_text('{"items": [\n {"id": 1},\n {"id": }\n]}')
    with pytest.raises(EolinkedError, match="d.json:3"):
        list(JsonSource(str(tmp_path / "d.json"), "$.items[*]").batches(["$.id"], 100))
