"""The store: everything the publisher keeps, in SQLite or PostgreSQL.

Contract: items with their translations, targets, windows and dayparts; staff, tokens and the
workflow that moves an item from draft to approved to withdrawn; screens' heartbeats and
deliveries; QR scan counts; the audit log. Writers call :mod:`publisher.store.workflow` (every
rule about who may do what) or :mod:`publisher.store.content`; readers get plain
:class:`~publisher.items.Item` values, never ORM rows, so the layers above can stay pure.

- :mod:`~publisher.store.db`: engine, sessions, migrations (Alembic, in ``migrations/``);
- :mod:`~publisher.store.models`: the tables;
- :mod:`~publisher.store.content`: items read and written, audit, the area tree synced;
- :mod:`~publisher.store.workflow`: create, submit, approve, return, withdraw;
- :mod:`~publisher.store.staff`: accounts, roles, scopes, passwords, API tokens;
- :mod:`~publisher.store.public`: the queries behind feeds, calendars and public pages;
- :mod:`~publisher.store.screens`: how every screen is doing, for staff;
- :mod:`~publisher.store.shortlinks`: QR short codes and their scan counts.

May import: the basics (``items``, ``areas``, ``errors``, ``config``, ``files``) only.
"""
