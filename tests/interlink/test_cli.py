"""The interlink subcommand: help with examples, runs, evaluation table, one-line errors, python -m."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from eolinked.cli import run
from interlink import cli

from .linkdata import brute_force, read_links, write_geofile, write_ntriples

ROOT = Path(__file__).resolve().parents[2]


def _parser():
    p = argparse.ArgumentParser(prog="eolinked")
    cli.register(p.add_subparsers(dest="command"))
    return p


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(_parser(), ["interlink", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "examples:" in out and "eolinked interlink --source" in out
    for option in ("--within-distance", "--budget", "--weighting", "--evaluate", "--index", "--pairs", "--graph"):
        assert option in out


def test_run_writes_links(tmp_path, synthetic, capsys):
    s = write_ntriples(tmp_path / "s.nt", synthetic[0])
    t = write_geofile(tmp_path / "t.gpkg", synthetic[1])
    code = run(_parser(), ["interlink", "--source", str(s), "--target", str(t), "--target-id",
                           "http://ex.org/t/{id}", "-o", str(tmp_path / "l.nt"), "--processes", "1"])
    err = capsys.readouterr().err
    assert code == 0 and f"interlink: {len(synthetic[0])} source and {len(synthetic[1])} target features" in err
    assert read_links(tmp_path / "l.nt") == brute_force(*synthetic)


def test_evaluate_prints_a_table(tmp_path, synthetic, capsys):
    s, t = write_ntriples(tmp_path / "s.nt", synthetic[0]), write_ntriples(tmp_path / "t.nt", synthetic[1])
    code = run(_parser(), ["interlink", "--source", str(s), "--target", str(t), "--evaluate", "--weighting",
                           "cf,chi2*mbro", "--budget", "10%,50%", "--processes", "1"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("| scheme") and len(lines) == 2 + 4 and lines[-1].startswith("| chi2*mbro | 50% |")


@pytest.mark.parametrize("args, message", [
    (["--relations", "sfNear"], "unknown relation 'sfNear'"),
    (["--weighting", "foo", "--budget", "5"], "unknown weighting scheme 'foo'"),
    (["--target-id", "http://ex.org/{x"], "unbalanced"),
    ([], "no output given"),
])
def test_errors_are_one_clear_message(tmp_path, synthetic, capsys, args, message):
    s = write_ntriples(tmp_path / "s.nt", synthetic[0])
    t = write_geofile(tmp_path / "t.gpkg", synthetic[1])
    out = [] if message == "no output given" else ["-o", str(tmp_path / "l.nt")]
    tid = [] if "--target-id" in args else ["--target-id", "http://ex.org/t/{id}"]
    code = run(_parser(), ["interlink", "--source", str(s), "--target", str(t), *tid, *out, *args])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err and "hint:" in err
    assert not (tmp_path / "l.nt").exists()


def test_missing_file_names_it(tmp_path, capsys):
    code = run(_parser(), ["interlink", "--source", str(tmp_path / "nope.nt"), "--target", str(tmp_path / "t.nt"),
                           "-o", str(tmp_path / "l.nt")])
    err = capsys.readouterr().err
    assert code == 1 and "nope.nt: no such file" in err


def test_python_m_interlink(tmp_path, synthetic):
    s, t = write_ntriples(tmp_path / "s.nt", synthetic[0]), write_ntriples(tmp_path / "t.nt", synthetic[1])
    done = subprocess.run([sys.executable, "-m", "interlink", "interlink", "--source", str(s), "--target", str(t),
                           "-o", str(tmp_path / "l.nt"), "--relations", "sfWithin", "--processes", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert read_links(tmp_path / "l.nt") == {x for x in brute_force(*synthetic) if x[1] == "sfWithin"}
