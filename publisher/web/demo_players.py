"""The demo's ``http`` players: the receiving end of the http push protocol, inside the app.

The shipped ``displays/setagaya.toml`` has three screens with ``delivery = "http"`` but no real
player behind them, so their ``endpoint`` is a path on this publisher (``/demo/players/<id>``,
resolved against ``BASE_URL`` by the delivery log). These routes answer as a player would
(see :mod:`publisher.deliver.sync`): the offer, the missing files (each checked against its
SHA-256), the commit. A committed bundle is applied to ``DATA_DIR/demo-players/<id>`` with the
same atomic folder swap as ``delivery = "folder"``, where it can be looked at.

Only a screen whose configured endpoint is this very path is answered; any other is a 404, so
a deployment whose screens name their real players' endpoints accepts nothing here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from publisher.deliver.base import MANIFEST, DeliveryError, ScreenTarget, read_bundle
from publisher.deliver.sync import FolderTarget
from publisher.files import write_atomic
from publisher.web import runtime

bp = Blueprint("demo_players", __name__)

PREFIX = "/demo/players/"
OUT_DIR = "demo-players"  # under DATA_DIR
MAX_FILES = 1000  # a bundle's slides, audio and SMIL; far more than a playlist has
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@bp.errorhandler(HTTPException)
def _as_json(e: HTTPException) -> Any:
    """A player's client reads errors as JSON, as from the API."""
    return jsonify({"error": e.description or e.name}), e.code


def endpoint_path(screen_id: str) -> str:
    return f"{PREFIX}{screen_id}"


def _screen(screen_id: str) -> Path:
    """This screen's folder, or 404 unless its endpoint is this receiver."""
    rt = runtime()
    screen = rt.tree.screens.get(screen_id)
    if screen is None or screen.delivery != "http" or screen.endpoint != endpoint_path(screen_id):
        abort(404, description=f"no demo player '{screen_id}'")
    return rt.settings.data_dir / OUT_DIR / screen_id


def _staging(folder: Path, version: str) -> Path:
    if not _SAFE_NAME.match(version):
        abort(400, description=f"version {version!r}: letters, digits and ._- only")
    return folder.parent / ".incoming" / folder.name / version


def _offer(staging: Path) -> dict[str, Any]:
    try:
        offer: dict[str, Any] = json.loads((staging / "offer.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        abort(409, description="no offer of this version: POST the offer first")
    return offer


def _missing(staging: Path, offer: dict[str, Any]) -> list[str]:
    out = []
    for f in offer["files"]:
        path = staging / "files" / f["name"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            out.append(f["name"])
    return out


def _playing(folder: Path) -> str | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return str(manifest.get("version"))


@bp.post(f"{PREFIX}<screen_id>")
def offer(screen_id: str) -> Any:
    """Step 1: the offer; answers the files this player lacks, or that it plays it already."""
    folder = _screen(screen_id)
    raw = request.get_json(silent=True)
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    files = data.get("files")
    if not isinstance(files, list) or not isinstance(data.get("manifest"), dict):
        abort(400, description='the offer needs "version", "manifest" and "files"')
    version = str(data.get("version", ""))
    if _playing(folder) == version:
        return jsonify({"applied": True})
    for f in files:
        name = f.get("name") if isinstance(f, dict) else None
        if (
            not isinstance(name, str)
            or not all(_SAFE_NAME.match(part) for part in name.split("/"))
            or not isinstance(f.get("sha256"), str)
        ):
            abort(400, description=f"files: {f!r} is not a file of a bundle")
    total = sum(f["size"] for f in files if isinstance(f.get("size"), int))
    if len(files) > MAX_FILES or total > MAX_BUNDLE_BYTES:
        abort(413, description=f"a bundle of {len(files)} files, {total} bytes: too large")
    staging = _staging(folder, version)
    if staging.parent.is_dir():  # one offer at a time: an earlier, uncommitted one is dropped
        for other in staging.parent.iterdir():
            if other != staging:
                shutil.rmtree(other, ignore_errors=True)
    (staging / "files").mkdir(parents=True, exist_ok=True)
    offer = {"version": version, "manifest": data["manifest"], "files": files}
    write_atomic(staging / "offer.json", json.dumps(offer, ensure_ascii=False).encode())
    return jsonify({"missing": _missing(staging, offer)})


@bp.put(f"{PREFIX}<screen_id>/files/<path:name>")
def put_file(screen_id: str, name: str) -> Any:
    """Step 2: one missing file, checked against the SHA-256 the offer gave for it."""
    folder = _screen(screen_id)
    staging = _staging(folder, request.headers.get("X-Bundle-Version", ""))
    offered = {f["name"]: f for f in _offer(staging)["files"]}
    if name not in offered:
        abort(400, description=f"{name}: not a file of the offered bundle")
    data = request.get_data()
    if len(data) != offered[name].get("size") or (
        hashlib.sha256(data).hexdigest() != offered[name]["sha256"]
    ):
        abort(400, description=f"{name}: its size or SHA-256 is not the offered one")
    write_atomic(staging / "files" / name, data)
    return jsonify({"stored": name})


@bp.post(f"{PREFIX}<screen_id>/commit")
def commit(screen_id: str) -> Any:
    """Step 3: switch to the version at once; committing the version it plays changes nothing."""
    folder = _screen(screen_id)
    data = request.get_json(silent=True)
    version = str(data.get("version", "")) if isinstance(data, dict) else ""
    if _playing(folder) == version:
        return jsonify({"applied": True})
    staging = _staging(folder, version)
    offer = _offer(staging)
    missing = _missing(staging, offer)
    if missing:
        abort(409, description=f"still missing: {', '.join(missing)}")
    bundle_dir = staging / "files"
    write_atomic(bundle_dir / MANIFEST, json.dumps(offer["manifest"], ensure_ascii=False).encode())
    try:
        FolderTarget().send(
            ScreenTarget(screen_id, "folder", folder=folder), read_bundle(bundle_dir)
        )
    except DeliveryError as e:
        abort(500, description=str(e))
    shutil.rmtree(staging.parent, ignore_errors=True)
    return jsonify({"applied": True})
