"""Engines, sessions and migrations: the same code for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
PG_MIGRATION_LOCK = 74_117_001  # advisory lock id: one migrator at a time across processes


def sync_url(database_url: str) -> str:
    """Normalise a database URL to a synchronous driver (psycopg 3 for PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql" and url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername == "postgresql+asyncpg":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def async_url(database_url: str) -> str:
    """The URL for an async engine: psycopg 3 is async-capable under the same dialect name."""
    return sync_url(database_url)


def _sqlite_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the single writer; FULL syncs the WAL on every commit,
        # so an acknowledged delivery survives power loss (NORMAL survives only process crashes).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return on_connect


def make_engine(database_url: str, *, sqlite_synchronous: str = "FULL", **kwargs: Any) -> Engine:
    """Create the bot's engine; SQLite gets WAL, the chosen `synchronous` level and a busy timeout."""
    url = sync_url(database_url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        level = sqlite_synchronous.upper()
        if level not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"invalid SQLite synchronous level {sqlite_synchronous!r}")
        event.listen(engine, "connect", _sqlite_pragmas(level))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, so returned rows stay readable."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(database_url: str) -> Config:
    """An Alembic `Config` pointing at the packaged migrations."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Any]:
    """One process at a time creates or migrates schemas (processes starting together on a fresh database
    otherwise race to create the same schema): an advisory lock on PostgreSQL, a file lock on SQLite."""
    with _migration_lock(engine) as connection:
        yield connection


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """SQLite: an exclusive lock on `<database>-schema.lock` beside the file (web processes of one
    `evolve serve --processes N` start together and would race to create the same tables)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl

    with open(f"{database}-schema.lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Any]:
    with _sqlite_file_lock(engine), engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": PG_MIGRATION_LOCK})
            connection.commit()
        try:
            yield connection
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": PG_MIGRATION_LOCK})
                connection.commit()


def migrate(database_url: str | Engine) -> None:
    """Bring the database to the newest schema (`alembic upgrade head`), safely from many processes."""
    engine = database_url if isinstance(database_url, Engine) else make_engine(database_url)
    try:
        url = engine.url.render_as_string(hide_password=False)
        config = alembic_config(url)
        with _migration_lock(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        if not isinstance(database_url, Engine):
            engine.dispose()


def head_revision() -> str | None:
    """The newest migration revision shipped with this version."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_migrated(engine: Engine) -> bool:
    """Whether the database answers and is at the newest revision."""
    return current_revision(engine) == head_revision()
