"""Engine and session factory; Alembic migrations run from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, create_engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine tuned for the dialect (SQLite: WAL, busy timeout, foreign keys); a server
    database gets at most `pool_size` connections, twice that at a peak."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Several threads (web, telephony, scheduler) share the file: WAL lets readers
            # run beside the one writer.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # A database host that drops packets must fail a connection in seconds, not after TCP's
    # two minutes of retries: the writers retry on their own (console/calls/writer.py).
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"connect_timeout": 5},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema to the given revision."""
    command.upgrade(alembic_config(url), revision)


def lock_row(session: Session, model: Any, pk: int) -> bool:
    """Serialise a check-then-write on one row (e.g. an agent's monthly swap count): the
    reads after this see every earlier writer's commit, and the next writer waits for ours.

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: a no-op UPDATE
    takes the database's write lock at once (waiting out the busy timeout), before the checks
    read anything. False when there is no such row.
    """
    if session.get_bind().dialect.name == "sqlite":
        stmt = (
            update(model)
            .where(model.id == pk)
            .values(id=model.id)
            .execution_options(synchronize_session=False)
        )
        # An UPDATE answers a CursorResult, which has the rowcount.
        return bool(cast(CursorResult[Any], session.execute(stmt)).rowcount)
    return session.scalar(select(model.id).where(model.id == pk).with_for_update()) is not None
