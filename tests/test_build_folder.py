"""`publisher build --out DIR` writes only into a folder it owns, and a full disk is a one-line
error, never a traceback."""

from __future__ import annotations

import errno

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli

AT = "2026-11-22T10:00"


@pytest.fixture
def run(rt, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def test_build_refuses_a_folder_with_someone_elses_files(run, tmp_path):
    home = tmp_path / "home"
    (home / "items").mkdir(parents=True)
    (home / "items" / "my-notes.txt").write_text("not the publisher's")
    code, out = run("build", "--out", str(home), "--at", AT)
    assert code == 1 and "not empty and was not made by `publisher build`" in out
    assert (home / "items" / "my-notes.txt").read_text() == "not the publisher's"


def test_build_writes_a_new_folder_and_rebuilds_its_own(run, tmp_path):
    site = tmp_path / "site"
    assert run("build", "--out", str(site), "--at", AT)[0] == 0
    assert (site / ".publisher-build").exists() and (site / "index.html").exists()
    code, out = run("build", "--out", str(site), "--at", AT)
    assert code == 0, out


def test_a_full_disk_during_build_is_one_line(run, tmp_path, monkeypatch):
    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "site" / "x.png"))

    monkeypatch.setattr("publisher.cli.build.steps", lambda: [("full-disk", full)])
    code, out = run("build", "--out", str(tmp_path / "site"), "--at", AT)
    assert code == 1
    assert out.strip().splitlines() == [
        f"Error: build: cannot write {tmp_path / 'site' / 'x.png'}: No space left on device"
    ]
