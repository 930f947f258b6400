"""The operator's command line: init, areas, screens, items, users and tokens."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from publisher.cli.main import cli
from publisher.config import REPO_DIR
from publisher.store.models import AuditRow, ItemRow


@pytest.fixture
def run(rt, monkeypatch):
    """Run ``publisher ARGS`` against the test runtime; returns (exit code, output)."""
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)  # the rt fixture closes it

    def invoke(*args, input=None):
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def test_init_with_demo_twice_changes_nothing(run, rt):
    code, out = run("init", "--demo")
    assert code == 0, out
    assert "demo items:" in out and " created" in out
    with rt.session() as s:
        items = s.scalar(select(func.count()).select_from(ItemRow))
        audits = s.scalar(select(func.count()).select_from(AuditRow))
    code, out = run("init", "--demo")
    assert code == 0 and "areas: 34 (0 changed), screens: 44 (0 changed)" in out
    assert "0 created, 0 updated" in out
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(ItemRow)) == items >= 25
        assert s.scalar(select(func.count()).select_from(AuditRow)) == audits


def test_the_demo_creates_staff_accounts_whose_passwords_only_the_operator_can_read(run, rt):
    from publisher.store import staff

    code, out = run("init", "--demo")
    path = rt.settings.data_dir / "demo-staff.txt"
    assert "demo-staff.txt" in out and (path.stat().st_mode & 0o777) == 0o600
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert [r[:3] for r in rows] == [
        ["demo-admin", "admin", "setagaya"],
        ["kitazawa-approver", "approver", "setagaya/kitazawa"],
        ["daizawa-editor", "editor", "setagaya/kitazawa/daizawa"],
    ]
    with rt.session() as s:
        assert staff.check_password(staff.user_by_name(s, "daizawa-editor"), rows[2][3])
    run("init", "--demo")
    assert len(path.read_text().splitlines()) == 3  # idempotent


def test_areas_json_shows_regions_and_districts_in_japanese(run):
    code, out = run("areas", "--json")
    tree = json.loads(out)
    assert [r["name"] for r in tree["children"]] == ["世田谷", "北沢", "玉川", "砧", "烏山"]
    assert sum(len(r["children"]) for r in tree["children"]) == 28


def test_init_saves_new_screens_player_urls_once_for_the_operator(run, rt):
    from sqlalchemy import delete

    from publisher.store.models import ScreenRow
    from publisher.web import create_app

    with rt.session() as s:  # a fresh database: no screen yet
        s.execute(delete(ScreenRow))
    code, out = run("init")
    path = rt.settings.data_dir / "screen-urls.txt"
    assert code == 0 and "player URLs of 44 new screen(s)" in out and str(path) in out
    assert (path.stat().st_mode & 0o777) == 0o600
    urls = dict(line.split(" ") for line in path.read_text().splitlines() if line[0] != "#")
    assert len(urls) == 44 and "token=" not in out
    kiosk = create_app(rt, {"TESTING": True}).test_client()
    url = urls["daizawa-1"].removeprefix("https://signage.example.jp")
    assert kiosk.get(url, follow_redirects=True).status_code == 200
    with rt.session() as s:  # only the hash is kept
        assert url.split("token=")[1] not in str(s.get(ScreenRow, "daizawa-1").token_hash)
    before = path.read_text()
    assert "player URLs" not in run("init")[1] and path.read_text() == before


def test_screens_list_their_status_but_never_a_token(run):
    code, out = run("screens", "--json")
    screens = json.loads(out)
    daizawa = next(s for s in screens if s["id"] == "daizawa-1")
    assert daizawa["status"] == "never seen" and "player_url" not in daizawa
    assert "token" not in run("screens")[1]


def test_items_add_prints_the_id_and_show_displays_it(run):
    code, out = run(
        "items",
        "add",
        "--kind",
        "notice",
        "--title",
        "臨時休館のお知らせ",
        "--target",
        "setagaya/kitazawa/daizawa",
        "--start",
        "2026-11-01",
        "--end",
        "2026-12-01",
    )
    assert code == 0, out
    item_id = int(out.strip())
    code, out = run("items", "show", str(item_id), "--json")
    assert json.loads(out)["status"] == "approved"
    code, out = run("items", "list", "--area", "setagaya/kitazawa/daizawa")
    assert "臨時休館のお知らせ" in out
    code, out = run("items", "list", "--area", "setagaya/kinuta/seijo")
    assert "臨時休館のお知らせ" not in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["items", "add", "--kind", "notice", "--title", "x", "--target", "setagaya/kitazwa"],
            "unknown area 'setagaya/kitazwa' (did you mean 'setagaya/kitazawa'?)",
        ),
        (
            [
                "items",
                "add",
                "--kind",
                "notice",
                "--title",
                "x",
                "--target",
                "setagaya",
                "--start",
                "2026-12-01",
                "--end",
                "2026-11-01",
            ],
            "ends before it starts",
        ),
        (["items", "show", "4242"], "no item 4242"),
        (["tokens", "create", "nobody"], "no user named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(run, args, message):
    code, out = run(*args)
    assert code != 0
    assert message in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_a_user_gets_a_token_that_works_on_the_api(run, client):
    code, out = run(
        "users",
        "create",
        "daizawa-editor",
        "--role",
        "editor",
        "--area",
        "setagaya/kitazawa/daizawa",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert code == 0, out
    code, out = run("tokens", "create", "daizawa-editor")
    token = out.strip().splitlines()[-1]
    r = client.get(
        "/api/items?area=setagaya/kitazawa/daizawa&status=draft",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200


def test_a_short_password_is_refused(run):
    code, out = run(
        "users",
        "create",
        "x",
        "--role",
        "editor",
        "--area",
        "setagaya",
        "--password-stdin",
        input="short\n",
    )
    assert code != 0 and "at least 10 characters" in out


def test_help_lists_every_setting():
    out = CliRunner().invoke(cli, ["--help"]).output
    assert "PUBLISHER_DATABASE_URL" in out and "PUBLISHER_BASE_URL" in out


def test_readme_documents_every_setting():
    from publisher.config import SETTINGS

    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"PUBLISHER_{s.name}" not in readme]
    assert not missing, f"README.md does not document {missing}"


def test_a_database_behind_the_code_is_refused_with_the_way_to_upgrade_it(run, rt):
    from sqlalchemy import text

    with rt.db.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    try:
        code, out = run("items", "list")
    finally:  # the PostgreSQL test database is shared by the whole session
        with rt.db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert code != 0
    assert "lacks migration(s) 0005, 0006, 0007" in out and "publisher init" in out
