"""Errors a person can act on.

Every error the publisher raises on bad input says *where* (file, line, field, key) and
*why*, in one line. Commands print it and exit non-zero; the API answers it as JSON with a
4xx status; the admin shows it next to the field, in Japanese when the error carries ``ja``
(the API keeps the English ``message``). None of them ever shows a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PublisherError(Exception):
    """Bad input or configuration, described for the person who can fix it."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        field: str | None = None,
        ja: str | None = None,
    ):
        self.message = message
        self.where = where
        self.field = field
        self.ja = ja  # the same for staff, in Japanese (the admin shows it after the field's label)
        super().__init__(f"{where}: {message}" if where else message)

    def with_status(self, status: int) -> PublisherError:
        """The same error answered with another HTTP status (401 for a missing token)."""
        self.status = status
        return self

    def as_json(self) -> dict[str, str]:
        out = {"error": str(self)}
        if self.field:
            out["field"] = self.field
        return out


class ConfigError(PublisherError):
    """A file under displays/, content/ or schedules/, or a setting, is wrong."""


class NotFound(PublisherError):
    status = 404


class Forbidden(PublisherError):
    status = 403


class Conflict(PublisherError):
    status = 409


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'kitazawa'?)`` when something close exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
