"""The eolinked command line: help with examples for every subcommand, runs, clear errors."""
from __future__ import annotations

import subprocess
import sys

import pytest

from eolinked.cli import build_parser, main

COMMANDS = ["transform", "generate-mapping", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"eolinked {command}" in out


def test_top_level_help_lists_commands():
    help_text = build_parser().format_help()
    assert all(c in help_text for c in COMMANDS) and "examples:" in help_text


def test_error_is_one_clear_line(tmp_path, capsys):
    code = main(["transform", "-m", str(tmp_path / "nope.ttl"), "-o", str(tmp_path / "out.nt")])
    err = capsys.readouterr().err
    assert code == 1 and "mapping file not found" in err and "Traceback" not in err


def test_demo_runs(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "naturalearth_lowres.nt" in out and "crop_types.nt" in out
    assert (tmp_path / "crop_types.nt").stat().st_size > 0


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "geotriples", "transform", "--help"],
                            capture_output=True, text=True, check=True)
    assert "examples:" in result.stdout
