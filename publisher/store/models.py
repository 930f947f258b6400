"""The content store's tables (SQLAlchemy 2.x). Migrations live in ``publisher/store/migrations``.

Rows are converted to the plain values of :mod:`publisher.items` by :mod:`publisher.store.content`;
nothing outside the store and the web/CLI edges touches these classes.

Times are stored as naive UTC on every database and come back tz-aware (:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, naive UTC stored, aware UTC out: identical on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class AreaRow(Base):
    """A copy of ``displays/``'s tree, so targets can reference areas."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(String(200))


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    category: Mapped[str | None] = mapped_column(String(50))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dayparts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    place_name: Mapped[str | None] = mapped_column(String(200))
    place_address: Mapped[str | None] = mapped_column(String(300))
    place_lat: Mapped[float | None] = mapped_column(Float)
    place_lon: Mapped[float | None] = mapped_column(Float)
    detail_url: Mapped[str | None] = mapped_column(String(1000))
    image: Mapped[str | None] = mapped_column(String(300))
    image_alt: Mapped[dict[str, str] | None] = mapped_column(JSON)  # language → alt text
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    # alert fields (CAP 1.2); null for notices and events
    cap_status: Mapped[str | None] = mapped_column(String(20))
    cap_msg_type: Mapped[str | None] = mapped_column(String(20))
    cap_identifier: Mapped[str | None] = mapped_column(String(300), index=True)
    cap_sender: Mapped[str | None] = mapped_column(String(300))
    cap_sent: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cap_references: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    certainty: Mapped[str | None] = mapped_column(String(20))
    warning_level: Mapped[int | None] = mapped_column(Integer)
    alert_kind: Mapped[str | None] = mapped_column(String(40))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    held_reason: Mapped[str | None] = mapped_column(String(500))
    # provenance, for idempotent upserts from collectors
    source: Mapped[str] = mapped_column(String(100), default="staff")
    external_id: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    review_comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    translations: Mapped[list[TranslationRow]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="TranslationRow.position",
    )
    targets: Mapped[list[TargetRow]] = relationship(
        back_populates="item", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_items_source_external_id"),
        Index("ix_items_window", "status", "starts_at", "ends_at"),
    )


class TranslationRow(Base):
    __tablename__ = "item_translations"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # staff's furigana for this text, one 漢字=かんじ a line (やさしい日本語)
    readings: Mapped[str] = mapped_column(Text, default="", server_default="")
    item: Mapped[ItemRow] = relationship(back_populates="translations")


class TargetRow(Base):
    __tablename__ = "item_targets"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True, index=True)
    item: Mapped[ItemRow] = relationship(back_populates="targets")


class ScreenRow(Base):
    """A lobby screen from ``displays/``, plus what the publisher learns about it."""

    __tablename__ = "screens"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(300), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery: Mapped[str] = mapped_column(String(20), default="pull")
    endpoint: Mapped[str | None] = mapped_column(String(1000))
    folder: Mapped[str | None] = mapped_column(String(1000))
    token_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the player's token
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once gone from displays/
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_item_id: Mapped[int | None] = mapped_column(Integer)
    last_slide: Mapped[str | None] = mapped_column(String(300))
    version_on_screen: Mapped[str | None] = mapped_column(String(100))
    latest_version: Mapped[str | None] = mapped_column(String(100))
    flagged_offline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HeartbeatRow(Base):
    """Proof of play: a screen reported showing this slide at this time."""

    __tablename__ = "heartbeats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[str] = mapped_column(ForeignKey("screens.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    item_id: Mapped[int | None] = mapped_column(Integer)
    slide: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[str | None] = mapped_column(String(100))


class DeliveryRow(Base):
    """One bundle version sent (or being sent) to an ``http`` or ``folder`` screen."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[str] = mapped_column(ForeignKey("screens.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        UniqueConstraint("screen_id", "version", name="uq_deliveries_screen_version"),
    )


class JobRunRow(Base):
    """One run of one scheduled job at one due instant, claimed before it runs.

    The unique (job, due_at) pair is what makes a job run once even across a leader handover:
    a new leader that re-plans an instant the old one already ran finds the claim and skips it.
    """

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(200))  # transition, watchdog, collect:<source>, ...
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    leader: Mapped[str] = mapped_column(String(200))  # host:pid of the scheduler that ran it
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("job", "due_at", name="uq_job_runs_job_due_at"),)


class CollectRunRow(Base):
    """One run of one source: when, what it stored, what it skipped and why."""

    __tablename__ = "collect_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"entry", "reason"}]
    # why the whole run failed (fetch or parse), or null; its last good items were kept
    failure: Mapped[str | None] = mapped_column(Text)


class SnsPostRow(Base):
    """The outbox: one post of one item revision to one account, keyed for exactly-once."""

    __tablename__ = "sns_posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(20))
    lang: Mapped[str] = mapped_column(String(20), default="ja")
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    remote_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when a send is claimed: a row found still "sending" later is reconciled, not resent
    intent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the item is withdrawn: the post is taken down where the network allows it
    withdraw_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_sns_posts_due", "state", "not_before"),)


class PushSubscriptionRow(Base):
    """A browser subscribed to an area's notifications: the push service's endpoint and keys,
    the area, the language and the choice (``alerts`` or ``all``). Nothing else about anyone."""

    __tablename__ = "push_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(String(200), index=True)
    lang: Mapped[str] = mapped_column(String(20), default="ja")
    choice: Mapped[str] = mapped_column(String(10), default="alerts")  # alerts | all
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class PushMessageRow(Base):
    """The Web Push outbox: one item to one subscription, once (unique pair)."""

    __tablename__ = "push_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)  # sent first
    # queued → sending → sent | retry | failed | unknown (claimed, outcome never recorded:
    # never resent) | cancelled (withdrawn or ended before sending)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    __table_args__ = (
        UniqueConstraint("subscription_id", "item_id", name="uq_push_messages_once"),
        Index("ix_push_messages_due", "state", "not_before"),
        Index("ix_push_messages_claim", "claim"),
    )


class QrScanRow(Base):
    """Scans of a QR short link per day; no personal data."""

    __tablename__ = "qr_scans"
    code: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, ward time
    count: Mapped[int] = mapped_column(Integer, default=0)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # editor | approver | admin
    scope: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # bumped by logout, a password change or disabling: ends every session issued before
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class LoginAttemptRow(Base):
    """A failed staff login from one network address, for throttling across processes."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    __table_args__ = (Index("ix_login_attempts_address_at", "address", "at"),)


class TokenRow(Base):
    """An API bearer token: only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Every change: who, what, when, before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # user name, "cli", "collect:<source>", ...
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PlayRow(Base):
    """Proof of play, raw: one slide a screen reported it showed (or, ``estimated``, one the
    publisher worked out from a bundle it delivered). Kept ``PLAYS_KEEP_DAYS``; folded into
    :class:`PlayDailyRow` once its ward day is over (``folded``)."""

    __tablename__ = "plays"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    screen_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)  # the player's own number: each play once
    item_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    lang: Mapped[str] = mapped_column(String(20))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, ward time, of started_at
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    folded: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        UniqueConstraint("screen_id", "seq", name="uq_plays_screen_id_seq"),
        # only the few plays not folded yet: what every report reads raw
        Index(
            "ix_plays_unfolded",
            "day",
            postgresql_where=text("folded = false"),
            sqlite_where=text("folded = 0"),
        ),
        Index("ix_plays_day", "day"),  # pruning
    )


class PlayDailyRow(Base):
    """Plays per ward day × screen × item × language (× estimated), kept for years."""

    __tablename__ = "plays_daily"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    screen_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lang: Mapped[str] = mapped_column(String(20), primary_key=True)
    estimated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    plays: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (Index("ix_plays_daily_item_day", "item_id", "day"),)


class ReachDailyRow(Base):
    """Counts per ward day of how residents were reached; never who.

    ``kind``: ``scan`` (item, lang, screen; ``format`` ``poster`` for a poster's code), ``view`` (item, lang), ``feed`` (area, format:
    distinct readers counted by one process, ``part`` names it), ``sns`` (account: posts
    sent). Unused key columns hold ``""`` or 0."""

    __tablename__ = "reach_daily"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lang: Mapped[str] = mapped_column(String(20), primary_key=True)
    screen_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(200), primary_key=True)
    format: Mapped[str] = mapped_column(String(20), primary_key=True)
    part: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
