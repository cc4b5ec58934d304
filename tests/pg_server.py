"""A real PostgreSQL + PostGIS server for the database tests (a pytest plugin).

Test modules load it with ``pytest_plugins = ["tests.pg_server"]``. The session fixture
:func:`pg_server` starts a throwaway cluster: ``initdb`` into a temporary folder (as the
``postgres`` user when the tests run as root, since initdb refuses root), ``pg_ctl start`` on
a private port of 127.0.0.1 with its unix socket in that folder, a database with the
``postgis`` extension; it stops the server and removes the folder at the end.

With ``PLANNER_TEST_PG_URL`` set, that server is used instead (its database must have the
postgis extension). Without a server the tests are skipped with the reason, except in CI
(``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

#: A role whose connections over TCP need a password (the authentication tests).
PASSWORD_ROLE = "planner_pw"
PASSWORD = "s3cret-Pw-不要"
#: The database the fixture creates.
DATABASE = "planner_test"


@dataclass(frozen=True)
class PgServer:
    """A server the tests may use."""

    url: str  # postgresql://postgres@127.0.0.1:PORT/DB (no password)
    host: str
    port: int
    database: str
    own: bool  # started by the fixture: the password role exists


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> NoReturn:
    if _in_ci():
        pytest.fail(f"PostgreSQL test server: {reason} (CI must run the database tests)")
    pytest.skip(f"PostgreSQL test server: {reason}")


def _bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb, else initdb on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    """Run ``argv`` as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _run(argv: list[str], what: str) -> None:
    r = subprocess.run(_as_owner(argv), capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        tail = " ".join((r.stderr or r.stdout).split())[-400:]
        raise RuntimeError(f"{what} failed: {tail}")


def _hba(folder: Path) -> None:
    """Trust everyone but the password role, which needs its password over TCP."""
    (folder / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        "host all all 127.0.0.1/32 trust\n",
        encoding="utf-8",
    )


def _psql(bindir: Path, sock: Path, port: int, db: str, sql: str) -> None:
    _run(
        [
            str(bindir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(sock),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ],
        f"psql {sql[:40]!r}",
    )


def _start_cluster(root: Path, bindir: Path) -> int:
    """initdb, configure and start a cluster in ``root``; return its port."""
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    _run([*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], "initdb")
    _hba(data)
    if os.geteuid() == 0:
        shutil.chown(data / "pg_hba.conf", "postgres")
    for _ in range(5):
        port = _free_port()
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        argv = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log")]
        try:
            _run([*argv, "-w", "-t", "60", "-o", opts, "start"], "pg_ctl start")
            break
        except RuntimeError:
            if "could not bind" not in (root / "log").read_text(errors="replace"):
                raise
    else:
        raise RuntimeError("no free port for the server")
    _psql(bindir, sock, port, "postgres", f"CREATE DATABASE {DATABASE}")
    _psql(bindir, sock, port, DATABASE, "CREATE EXTENSION postgis")
    _psql(bindir, sock, port, DATABASE, f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
    _psql(bindir, sock, port, DATABASE, f"GRANT CREATE ON DATABASE {DATABASE} TO {PASSWORD_ROLE}")
    return port


def _stop_cluster(root: Path, bindir: Path) -> None:
    with contextlib.suppress(Exception):
        _run([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"], "stop")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server with PostGIS: ``PLANNER_TEST_PG_URL``'s, or a throwaway cluster."""
    given = os.environ.get("PLANNER_TEST_PG_URL")
    if given:
        from sqlalchemy.engine import make_url

        u = make_url(given)
        yield PgServer(given, u.host or "", int(u.port or 5432), u.database or "", own=False)
        return
    bindir = _bindir()
    if bindir is None or not (bindir / "pg_ctl").is_file():
        _unavailable(
            "no PostgreSQL binaries (apt-get install postgresql-15 postgresql-15-postgis-3)"
        )
    if not any(Path("/usr/share/postgresql").glob("*/extension/postgis.control")):
        _unavailable("PostGIS is not installed (apt-get install postgresql-15-postgis-3)")
    root = Path(tempfile.mkdtemp(prefix="planner-pg-"))
    try:
        port = _start_cluster(root, bindir)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, LookupError) as err:
        log = root / "log"
        tail = log.read_text(errors="replace")[-400:] if log.is_file() else ""
        _stop_cluster(root, bindir)
        _unavailable(f"cannot start a cluster: {err} {tail}".strip())
    url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
    try:
        yield PgServer(url, "127.0.0.1", port, DATABASE, own=True)
    finally:
        _stop_cluster(root, bindir)


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> str:
    """The test server's URL (no password)."""
    return pg_server.url
