"""Connections to a PostgreSQL/PostGIS database: URLs without passwords, one-line errors.

The password never travels in a URL: libpq reads it from ``PGPASSWORD`` or ``~/.pgpass``
(``PGPASSFILE``). Every message names the server as ``postgresql://USER@HOST:PORT/DB``
and any password libpq was given is masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from planner.errors import ConfigError, DataError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

    from planner.datatypes import InputFile

#: URL schemes taken for a database.
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
#: Seconds to wait for the server before giving up.
CONNECT_TIMEOUT_S = 10


def is_database_url(text: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(text, str) and text.split("://", 1)[0].lower() in SCHEMES


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of ``url`` on psycopg 3, checked.

    Raises
    ------
    ConfigError
        Not a PostgreSQL URL, no database named, or a password in the URL (the message
        shows the URL without it).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not is_database_url(url):
        msg = "a database URL is postgresql://USER@HOST:PORT/DATABASE"
        raise ConfigError(msg)
    try:
        u = make_url("postgresql" + url[url.index("://") :])
    except (ArgumentError, ValueError):
        msg = "cannot read the database URL: write it as postgresql://USER@HOST:PORT/DATABASE"
        raise ConfigError(msg) from None
    # libpq takes a password from the query string too (?password=...)
    if u.password is not None or any(k.lower() == "password" for k in u.query):
        msg = (
            f"{show_url(u.set(password=None))}: the URL holds a password; leave it out and "
            "give it in PGPASSWORD or ~/.pgpass (never on the command line or in a config)"
        )
        raise ConfigError(msg)
    if not u.database:
        msg = f"{show_url(u)}: no database named (postgresql://USER@HOST:PORT/DATABASE)"
        raise ConfigError(msg)
    return u.set(drivername="postgresql+psycopg")


def show_url(u: URL) -> str:
    """``postgresql://USER@HOST:PORT/DB``, never with a password."""
    user = f"{u.username}@" if u.username else ""
    port = f":{u.port}" if u.port else ""
    return f"postgresql://{user}{u.host or ''}{port}/{u.database or ''}"


def engine(url: str | URL) -> Engine:
    """An engine on ``url`` (checked by :func:`parse_url` when given as text), no pool."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    u = parse_url(url) if isinstance(url, str) else url
    return create_engine(
        u,
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "planner"},
    )


def mask(text: str) -> str:
    """``text`` on one line, with the password of ``PGPASSWORD`` masked."""
    line = " ".join(str(text).split())
    secret = os.environ.get("PGPASSWORD")
    if secret:
        line = line.replace(secret, "***")
    return line


def _reason(err: BaseException, u: URL) -> str:
    """Why a connection failed, in a few words (libpq's message, trimmed)."""
    orig = getattr(err, "orig", None) or err
    state = getattr(orig, "sqlstate", None) or ""
    text = mask(str(orig))
    lower = text.lower()
    if state.startswith("28") or "password" in lower or "authentication" in lower:
        return (
            f"authentication failed for user {u.username or '(default)'}: give the password "
            "in PGPASSWORD or ~/.pgpass, and check pg_hba.conf allows this user"
        )
    if state == "3D000" or ("database" in lower and "does not exist" in lower):
        return f"database {u.database!r} does not exist"
    if "role" in lower and "does not exist" in lower:  # the server answered: not "unreachable"
        return (
            f"the server has no user {u.username or '(default)'!r}: check the user in the URL "
            "(postgresql://USER@HOST:PORT/DB)"
        )
    detail = re.sub(r"^connection failed: ", "", text)
    detail = re.sub(r"\(Background on this error.*$", "", detail).strip()
    return f"cannot reach the server ({detail[:200]})"


@contextmanager
def connect(url: str | URL, *, postgis: bool = True) -> Iterator[Connection]:
    """A connection inside one transaction (committed at the end, rolled back on error).

    Parameters
    ----------
    url
        ``postgresql://USER@HOST:PORT/DB`` (no password) or a parsed URL.
    postgis
        Check that the database has the ``postgis`` extension.

    Raises
    ------
    DataError
        The server is unreachable, authentication failed, the database does not exist,
        or PostGIS is missing: one line, exit code 2.
    """
    import psycopg
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    u = parse_url(url) if isinstance(url, str) else url
    eng = engine(u)
    try:
        try:
            conn = eng.connect()
        except DBAPIError as err:
            raise DataError(f"{show_url(u)}: {_reason(err, u)}") from None
        with conn, conn.begin():
            if postgis:
                found = conn.execute(
                    text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
                ).scalar()
                if found is None:
                    msg = (
                        f"{show_url(u)}: the database has no PostGIS extension; an "
                        "administrator runs CREATE EXTENSION postgis in it"
                    )
                    raise DataError(msg)
            try:
                yield conn
            except (DBAPIError, psycopg.Error) as err:  # COPY (to_postgis) raises psycopg's
                detail = mask(str(getattr(err, "orig", None) or err)).strip().splitlines()
                raise DataError(f"{show_url(u)}: {' '.join(detail)[:300]}") from None
    finally:
        eng.dispose()


def srid_known(conn: Connection, srid: int) -> bool:
    """True when the database's ``spatial_ref_sys`` has ``srid``."""
    from sqlalchemy import text

    found = conn.execute(text("SELECT 1 FROM spatial_ref_sys WHERE srid = :s"), {"s": srid})
    return found.scalar() is not None


def table_input(role: str, where: str, frame: Any) -> InputFile:
    """A database layer as the manifest records an input: ``where`` (its URL without a
    password, and its table or query) and a SHA-256 of the rows as read (their columns,
    values and geometries in order), so that a run's key and ``run.json`` change when the
    table's content does.

    Parameters
    ----------
    role
        The input's role (``boundaries``, ``chargers`` ...).
    where
        The database and the table or query.
    frame
        The rows read (a GeoDataFrame).
    """
    import hashlib
    import json

    import pandas as pd
    import shapely

    from planner.datatypes import InputFile

    geometry = frame.geometry.name
    attrs = frame.drop(columns=[geometry])
    parts = [
        json.dumps([str(c) for c in frame.columns], ensure_ascii=False).encode("utf-8"),
        pd.util.hash_pandas_object(attrs.astype(str), index=False).to_numpy().tobytes(),
        b"".join(shapely.to_wkb(frame.geometry.to_numpy())),
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return InputFile(role, where, digest.hexdigest(), sum(len(p) for p in parts))
