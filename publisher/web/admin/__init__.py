"""The staff admin (``/admin/``): log in, write, approve, schedule, withdraw and alert.

Server-rendered pages in Japanese with a little JavaScript from ``static/admin/``. Every rule
about who may do what lives in :mod:`publisher.store.workflow` and :mod:`publisher.store.staff`; these views
only translate forms into those calls and their errors back into pages.

Security set up here for the whole app: Flask-Login sessions, CSRF on every form except the
bearer-token API and the players (:data:`CSRF_EXEMPT_PREFIXES`), and a Content-Security-Policy
without inline scripts on admin pages.
"""

from publisher.web.admin import (  # routes register on bp
    accounts,
    audit,
    emergency,
    itemviews,
    printing,
    reports,
    screens,
)
from publisher.web.admin.base import CSRF_EXEMPT_PREFIXES, bp, clock, who

__all__ = [
    "CSRF_EXEMPT_PREFIXES",
    "accounts",
    "audit",
    "bp",
    "clock",
    "emergency",
    "itemviews",
    "printing",
    "reports",
    "screens",
    "who",
]
