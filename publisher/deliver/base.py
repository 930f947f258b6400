"""The delivery contract: how a screen's bundle reaches a screen that does not pull.

The whole surface:

- A **bundle** is a directory holding ``manifest.json`` (whose ``"version"`` changes whenever
  anything in the bundle changes) and the files the screen plays: numbered PNG slides,
  ``playlist.smil``, whatever the export stage writes. :func:`read_bundle` reads one into a
  :class:`Bundle`, with the size and SHA-256 of every file.
- A **target** has a ``name`` and ``send(screen, bundle) -> Sent``. It gets the bundle onto the
  screen or raises :class:`DeliveryError` saying where and why; the delivery log
  (:mod:`publisher.deliver.log`) records the attempt and retries later with backoff. A target
  sends nothing it need not: the version already on the screen is never applied twice.
- :data:`publisher.deliver.sync.TARGETS` maps each ``delivery`` value of ``displays/*.toml``
  (``pull``, ``http``, ``folder``) to its target. Adding a kind of player is a class and one
  registry line; the built-ins use that same registry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MANIFEST = "manifest.json"


class DeliveryError(Exception):
    """The screen did not take the bundle (unreachable, refused, half-way): retry later."""


@dataclass(frozen=True)
class BundleFile:
    name: str  # path inside the bundle, "/"-separated: "003.png"
    size: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    path: Path
    version: str
    manifest: dict[str, Any]
    files: tuple[BundleFile, ...]  # every file but manifest.json

    def offer(self) -> dict[str, Any]:
        """What an ``http`` screen is first shown: the version, the manifest, every file."""
        return {
            "version": self.version,
            "manifest": self.manifest,
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


@dataclass(frozen=True)
class ScreenTarget:
    """Where one screen takes its bundles (from the screens table)."""

    id: str
    delivery: str
    endpoint: str | None = None
    folder: Path | None = None


@dataclass(frozen=True)
class Sent:
    files: int = 0
    bytes: int = 0
    detail: str = ""


class Target(Protocol):
    name: str

    def send(self, screen: ScreenTarget, bundle: Bundle) -> Sent: ...


def read_bundle(path: Path) -> Bundle:
    """Read a bundle directory; a missing or versionless manifest is an error naming the file."""
    path = Path(path)
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeliveryError(f"{manifest_path}: the bundle has no manifest") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise DeliveryError(f"{manifest_path}: not valid JSON: {e}") from None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(version, str | int) or str(version) == "":
        raise DeliveryError(f'{manifest_path}: no "version" in the manifest')
    files = []
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        name = f.relative_to(path).as_posix()
        if name == MANIFEST:
            continue
        data = f.read_bytes()
        files.append(BundleFile(name, len(data), hashlib.sha256(data).hexdigest()))
    return Bundle(path, str(version), manifest, tuple(files))
