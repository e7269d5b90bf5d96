"""Throw-away PostgreSQL clusters on this machine, from PostgreSQL's own binaries: a
primary made with ``initdb`` and streaming replicas of it made with
``pg_basebackup -R``, each on a free port of 127.0.0.1 in a temporary directory, and
each stopped by its postmaster's PID. For the replica tests; backups and restores use
the same pieces.

PostgreSQL's binaries refuse to run as root: run as root, every command runs as the
``postgres`` user (``runuser``), which owns the directories.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tools.harness import HOST, free_port

OS_USER = "postgres"
SUPERUSER = "postgres"


def bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: ``PG_BINDIR``, ``pg_config``'s, or
    Debian's newest ``/usr/lib/postgresql/<version>/bin``."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        path = Path(found.stdout.strip())
        if (path / "initdb").exists():
            return path
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def available() -> bool:
    if bindir() is None:
        return False
    if os.geteuid() == 0:
        return shutil.which("runuser") is not None and _user_exists(OS_USER)
    return True


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else command


def _run(*command: str, timeout: float = 120) -> str:
    directory = bindir()
    assert directory is not None, "PostgreSQL's binaries were not found"
    argv = [str(directory / command[0]), *command[1:]]
    result = subprocess.run(
        _as_owner(argv), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def owned_tempdir(prefix: str) -> Path:
    """A new temporary directory the PostgreSQL user owns (mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, OS_USER, OS_USER)
    path.chmod(0o700)
    return path


class Cluster:
    """One running (or stopped) cluster: its data directory, port and postmaster."""

    def __init__(self, datadir: Path, port: int) -> None:
        self.datadir = datadir
        self.port = port

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{SUPERUSER}@{HOST}:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        _run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            f"-p {self.port} -c listen_addresses={HOST} -k {self.datadir}",
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, *, immediate: bool = False) -> None:
        """SIGINT (fast shutdown) or SIGQUIT (immediate: as a crash) to the postmaster,
        then wait for it to go; SIGKILL after 30 seconds."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT if immediate else signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """One statement through psql, as the superuser; its rows, unaligned."""
        return _run(
            "psql",
            "-h",
            HOST,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-Atc",
            statement,
            timeout=60,
        ).strip()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def primary(**settings: str) -> Cluster:
    """A new cluster that streams its WAL to replicas (trusting 127.0.0.1), started."""
    datadir = owned_tempdir("pg-primary-") / "data"
    _run("initdb", "-D", str(datadir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8")
    conf = {
        "wal_level": "replica",
        "max_wal_senders": "10",
        "hot_standby": "on",
        "fsync": "off",  # a throw-away cluster: speed over crash safety
        "synchronous_commit": "off",
        "full_page_writes": "off",
        **settings,
    }
    _append(datadir / "postgresql.conf", "".join(f"{k} = '{v}'\n" for k, v in conf.items()))
    _append(
        datadir / "pg_hba.conf",
        f"host replication {SUPERUSER} {HOST}/32 trust\nhost all all {HOST}/32 trust\n",
    )
    cluster = Cluster(datadir, free_port())
    cluster.start()
    return cluster


def _basebackup(of: Cluster, target: Path, *options: str) -> None:
    """``pg_basebackup`` of ``of`` into ``target``: plain format, with the WAL it needs
    to be consistent, after a fast checkpoint."""
    _run(
        "pg_basebackup",
        *("-h", HOST, "-p", str(of.port), "-U", SUPERUSER, "-D", str(target)),
        *("-X", "stream", "-c", "fast"),
        *options,
    )


def replica(of: Cluster) -> Cluster:
    """A streaming replica of ``of`` (``pg_basebackup -R``), started and caught up."""
    datadir = owned_tempdir("pg-replica-") / "data"
    _basebackup(of, datadir, "-R")
    cluster = Cluster(datadir, free_port())
    cluster.start()
    return cluster


def base_backup(of: Cluster) -> Path:
    """A base backup of ``of``: its directory."""
    target = owned_tempdir("pg-backup-") / "base"
    _basebackup(of, target)
    return target


def restore(backup: Path, *, restore_command: str, **targets: str) -> Cluster:
    """A new cluster from the base backup ``backup``, recovered from the WAL archive
    (``restore_command``) up to ``targets`` (``recovery_target_name='...'``,
    ``recovery_target_time``, ...), promoted, started; it archives nothing itself."""
    datadir = owned_tempdir("pg-restored-") / "data"
    subprocess.run(_as_owner(["cp", "-a", str(backup), str(datadir)]), check=True)
    recovery = {
        "restore_command": restore_command,
        "recovery_target_action": "promote",
        "archive_mode": "off",
        **targets,
    }
    _append(
        datadir / "postgresql.auto.conf", "".join(f"{k} = '{v}'\n" for k, v in recovery.items())
    )
    subprocess.run(_as_owner(["touch", str(datadir / "recovery.signal")]), check=True)
    cluster = Cluster(datadir, free_port())
    cluster.start()
    deadline = time.monotonic() + 120
    while cluster.sql("SELECT pg_is_in_recovery()") == "t":
        if time.monotonic() > deadline:
            raise RuntimeError("the restored cluster never left recovery")
        time.sleep(0.2)
    return cluster


def _append(path: Path, text: str) -> None:
    # As the owner: the directory is the postgres user's, mode 0700.
    subprocess.run(_as_owner(["sh", "-c", f"cat >> '{path}'"]), input=text, text=True, check=True)
