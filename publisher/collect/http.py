"""Fetching a source's document: bounded in time, size and redirects.

Upstream servers are other people's machines: a slow, huge or looping answer must never hang
or exhaust the publisher. Every failure is a :class:`FetchError` saying which URL and why.

Nor may a source (or a redirect it answers with) point the publisher at the machines around it:
loopback, link-local (cloud metadata), private and other non-public addresses are refused at
every hop, unless the source says ``options.allow_private_addresses = true`` (a ward server on
the office network; the tests' local upstream). A trickling server is given up at the total
deadline (:mod:`publisher.net`), whatever it trickles: headers or body.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from publisher import __version__
from publisher.errors import PublisherError
from publisher.net import deadline, session

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
TOTAL_TIMEOUT_S = 60.0
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = (
    f"setagaya-publisher/{__version__} (district signage and information publisher; "
    "collects the ward's own feeds)"
)
_CHUNK = 64 * 1024


class FetchError(PublisherError):
    """The document could not be fetched (network, HTTP status, size, time)."""


class Http:
    """``get(url) -> bytes`` with the limits above; one per run (or per process)."""

    def __init__(
        self,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        total_timeout_s: float = TOTAL_TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        resolve: Callable[[str], list[str]] | None = None,
    ):
        self.resolve = resolve or resolve_host
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.total_timeout_s = total_timeout_s
        self.max_bytes = max_bytes
        self.session = session()
        self.session.max_redirects = max_redirects
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, url: str, *, allow_private: bool = False) -> bytes:
        """The document at ``url``; the whole call (every hop's connect, headers and body) ends
        within ``total_timeout_s`` however slowly the server answers
        (:func:`publisher.net.deadline`)."""
        if not url.startswith(("https://", "http://")):
            raise FetchError(f"{url}: only http(s) URLs can be collected")
        gave_up = f"{url}: no complete answer within {self.total_timeout_s:g} s; gave up"
        with deadline(self.total_timeout_s) as d:
            try:
                body = self._get(url, allow_private)
            except FetchError:
                if d.expired:
                    raise FetchError(gave_up) from None
                raise
        if d.expired:  # the sockets were shut: what arrived may be cut short
            raise FetchError(gave_up)
        return body

    def _get(self, url: str, allow_private: bool) -> bytes:
        current = url
        try:
            for _hop in range(self.session.max_redirects + 1):
                if not allow_private:
                    refuse_non_public(current, self.resolve)
                with self.session.get(
                    current, timeout=self.timeout, stream=True, allow_redirects=False
                ) as resp:
                    if resp.is_redirect:
                        current = urljoin(current, resp.headers.get("Location", ""))
                        if not current.startswith(("https://", "http://")):
                            raise FetchError(f"{url}: redirected to a non-http(s) URL")
                        continue
                    return self._body(url, resp)
            raise FetchError(
                f"{url}: more than {self.session.max_redirects} redirects (a redirect loop?)"
            )
        except requests.Timeout:
            raise FetchError(f"{url}: no answer within {self.timeout[1]:g} s") from None
        except requests.ConnectionError as e:
            raise FetchError(f"{url}: cannot connect ({_reason(e)})") from None
        except requests.RequestException as e:
            raise FetchError(f"{url}: {_reason(e)}") from None

    def _body(self, url: str, resp: requests.Response) -> bytes:
        if resp.status_code >= 400:
            raise FetchError(f"{url}: the server answered {resp.status_code} {resp.reason}")
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                f"{url}: {int(declared):,} bytes is over the limit of {self.max_bytes:,}"
            )
        body = bytearray()
        for chunk in resp.iter_content(_CHUNK):
            body.extend(chunk)
            if len(body) > self.max_bytes:
                raise FetchError(f"{url}: the answer is over the limit of {self.max_bytes:,} bytes")
        return bytes(body)

    def read_file(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise FetchError(f"{path}: {size:,} bytes is over the limit of {self.max_bytes:,}")
            return path.read_bytes()
        except OSError as e:
            raise FetchError(f"{path}: cannot read it ({e.strerror or e})") from None

    def close(self) -> None:
        self.session.close()


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def refuse_non_public(url: str, resolve: Callable[[str], list[str]] = resolve_host) -> None:
    """FetchError unless every address ``url``'s host resolves to is a public one."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as e:
        raise FetchError(f"{url}: cannot resolve {host!r} ({e})") from None
    for text in addresses:
        address = ipaddress.ip_address(text)
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"{url}: {host} is at {address}, a loopback, link-local or private address; "
                "set options.allow_private_addresses = true on this source to allow it"
            )


def _reason(e: Exception) -> str:
    """The innermost reason ("[Errno -2] Name or service not known"), not urllib3's reprs."""
    inner: BaseException = e
    for _ in range(8):
        first = inner.args[0] if inner.args else None
        nxt = (
            getattr(inner, "reason", None)
            if isinstance(getattr(inner, "reason", None), BaseException)
            else first
            if isinstance(first, BaseException)
            else inner.__cause__ or inner.__context__
        )
        if nxt is None:
            break
        inner = nxt
    return str(inner)[:200]
