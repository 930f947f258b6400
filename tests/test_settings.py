"""Settings: one table in the code, the README and `publisher settings`; links follow the port;
a busy port says what to do; a proxy's forwarded headers are trusted only when configured."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner
from flask import request

from publisher.cli.main import cli
from publisher.cli.serve import port_problem
from publisher.config import (
    README_BEGIN,
    README_END,
    REPO_DIR,
    SETTINGS,
    load_settings,
    settings_markdown,
)
from publisher.web import create_app


@pytest.fixture
def run(rt, monkeypatch):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args))
        return result.exit_code, result.output

    return invoke


def test_the_readme_settings_table_is_the_one_the_code_declares():
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(README_BEGIN) + len(README_BEGIN) : readme.index(README_END)]
    assert table.strip() == settings_markdown(), (
        "README.md's settings table differs from publisher/config.py: run "
        "`.venv/bin/publisher settings --write-readme README.md`"
    )
    assert readme.count("`PUBLISHER_THREADS`") == 1


def test_publisher_settings_lists_every_setting_with_its_default_aligned(run):
    code, out = run("settings")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("  PUBLISHER_")]
    assert [r.split()[0] for r in rows] == [s.env for s in SETTINGS]
    assert len({r.index("default:") for r in rows}) == 1  # one column
    assert "default: None" not in out and "Database now:" in out


def test_help_shows_the_settings_as_a_table_and_how_to_run_the_command():
    out = CliRunner().invoke(cli, ["--help"]).output
    assert ".venv/bin/publisher" in out and ". .venv/bin/activate" in out
    lines = out.splitlines()
    data_dir = next(i for i, line in enumerate(lines) if "PUBLISHER_DATA_DIR" in line)
    database = next(i for i, line in enumerate(lines) if "PUBLISHER_DATABASE_URL" in line)
    assert "default: var/" in lines[data_dir] and database > data_dir + 1
    assert "[default: None]" not in out


def test_links_follow_the_address_serve_binds_unless_base_url_is_set():
    settings = load_settings({})
    settings.follow_server("127.0.0.1", 8123)
    assert settings.base_url == "http://127.0.0.1:8123"
    given = load_settings({"PUBLISHER_BASE_URL": "https://signage.example.jp/"})
    given.follow_server("127.0.0.1", 8123)
    assert given.base_url == "https://signage.example.jp"
    wildcard = load_settings({})
    wildcard.follow_server("0.0.0.0", 8123)
    assert wildcard.base_url == f"http://{socket.gethostname()}:8123"


def test_feeds_qr_codes_and_player_urls_point_at_the_port_given(run, rt, client):
    from sqlalchemy import delete

    from publisher.store.models import ScreenRow

    with rt.session() as s:  # a fresh database: no screen yet
        s.execute(delete(ScreenRow))
    rt.settings["BASE_URL"] = None
    code, out = run("init", "--port", "8123")
    assert code == 0, out
    urls = (rt.settings.data_dir / "screen-urls.txt").read_text(encoding="utf-8")
    assert "daizawa-1 http://127.0.0.1:8123/play/daizawa-1?token=" in urls
    assert rt.item_qr_url(7) == "http://127.0.0.1:8123/q/i7"
    feed = client.get("/feeds/setagaya.rss").get_data(as_text=True)
    assert "http://127.0.0.1:8123/" in feed and ":8000" not in feed


def test_a_busy_port_is_one_line_saying_how_to_choose_another(run):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
        code, out = run("serve", "--port", str(port))
    assert problem == (
        f"port {port} on 127.0.0.1 is in use: stop the other server, or choose another port "
        f"(`make run PORT={port + 1}` or `publisher serve --port {port + 1}`)"
    )
    assert code == 1 and out.strip() == f"Error: {problem}"


def test_an_address_not_of_this_machine_is_named():
    assert "not an address of this machine" in (port_problem("192.0.2.1", 8000) or "")


def _probe_app(rt):
    app = create_app(rt, {"TESTING": True})

    @app.get("/_probe")
    def probe() -> str:
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app.test_client()


def test_forwarded_headers_are_trusted_only_from_the_configured_proxies(rt):
    headers = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "signage.city.setagaya.example",
    }
    direct = _probe_app(rt).get("/_probe", headers=headers).get_data(as_text=True)
    assert direct == "127.0.0.1 http localhost"  # PROXY_HOPS=0: a client cannot claim them
    rt.settings["PROXY_HOPS"] = 1
    proxied = _probe_app(rt).get("/_probe", headers=headers).get_data(as_text=True)
    assert proxied == "203.0.113.9 https signage.city.setagaya.example"
