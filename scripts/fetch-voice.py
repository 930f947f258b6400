#!/usr/bin/env python3
"""Install the "Mei" Japanese voice for Open JTalk from a package on PyPI.

Debian ships Open JTalk and its dictionary in main, but its only voice package
(hts-voice-nitech-jp-atr503-m001) is not in every mirror. The pyopenjtalk source package on
PyPI ships the MMDAgent "Mei" voice (mei_normal.htsvoice, CC BY 3.0, Nagoya Institute of
Technology); this takes just that file and its licence out of a pinned, hash-checked release.

Usage: scripts/fetch-voice.py DEST_DIR    (e.g. /usr/share/hts-voice/mei)
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

SDIST = (
    "https://files.pythonhosted.org/packages/58/74/"
    "ccd31c696f047ba381f9b11a504bf1199756c3f30f3de64e3eeb83e10b4a/pyopenjtalk-0.4.1.tar.gz"
)
SHA256 = "d5ada46f7fc2b52c1c79c273eb9668ff6ad7ab276a8db9d8be119ef93440f0dc"
MEMBERS = {
    "pyopenjtalk-0.4.1/pyopenjtalk/htsvoice/mei_normal.htsvoice": "mei_normal.htsvoice",
    "pyopenjtalk-0.4.1/pyopenjtalk/htsvoice/LICENSE_mei_normal.htsvoice": "LICENSE_mei_normal.htsvoice",
}


def main(dest: str) -> int:
    try:
        with urllib.request.urlopen(SDIST, timeout=60) as answer:
            data = answer.read()
    except OSError as e:
        print(f"fetch-voice: cannot download {SDIST}: {e}", file=sys.stderr)
        return 1
    if hashlib.sha256(data).hexdigest() != SHA256:
        print("fetch-voice: the downloaded package does not match its pinned hash", file=sys.stderr)
        return 1
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, name in MEMBERS.items():
            f = tar.extractfile(member)
            if f is None:
                print(f"fetch-voice: {member} is not in the package", file=sys.stderr)
                return 1
            (out / name).write_bytes(f.read())
    print(f"Installed the Mei voice for Open JTalk in {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
