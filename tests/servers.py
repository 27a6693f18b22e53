"""The production shape as processes on 127.0.0.1: a throw-away PostgreSQL server, Redis,
gunicorn with its web workers and the job consumers, each logging to a file. Used by the
test fixtures and by bench/load.py, so nothing here needs pytest."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# The virtual environment running this code has dsr's commands and gunicorn.
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if any."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return bins[-1].parent if bins else None


@contextmanager
def postgres() -> Iterator[str]:
    """Start a throw-away PostgreSQL server on 127.0.0.1; yield its URL without a database."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: `make system-packages` installs it.")
    root = Path(tempfile.mkdtemp(prefix="dsr-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [*as_postgres, bindir / "initdb", "-D", data, "-U", "dsr", "--auth=trust",
         "--encoding=UTF8", "--no-locale"],
        check=True, capture_output=True,
    )
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    subprocess.run(
        [*as_postgres, bindir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log",
         "-w", "start"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://dsr@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True, check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def connect(database_url: str, **options: Any) -> psycopg.Connection[Any]:
    """A psycopg connection to the database of an SQLAlchemy URL."""
    url = make_url(database_url)
    return psycopg.connect(host=url.host, port=url.port, user=url.username,
                           dbname=url.database or "postgres", **options)


def admin_sql(server: str, statement: str) -> None:
    """Run one statement outside a transaction in the server's `postgres` database."""
    with connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(statement.encode())


def write_instance(folder: Path, settings: Mapping[str, object]) -> Path:
    """An instance folder whose config.py sets `settings` (plain Python literals)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    (folder / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def environment(instance: Path) -> dict[str, str]:
    """What dsr's processes run with: this environment without DSR_* overrides (the instance
    config decides), the instance folder, and the app for `flask`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DSR_")}
    return env | {"DSR_INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi",
                  "PYTHONUNBUFFERED": "1"}


def flask(env: Mapping[str, str], *args: str, timeout: float = 120
          ) -> subprocess.CompletedProcess[str]:
    """Run a `flask` command of dsr as from a shell in the repository."""
    return subprocess.run([BIN / "flask", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


class Process:
    """A server run as a child process, its output going to a log file."""

    stop_signal = signal.SIGTERM

    def __init__(self, name: str, argv: list[str | Path], log: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.handle: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.handle is not None, f"{self.name} is not running"
        return self.handle.pid

    def running(self) -> bool:
        return self.handle is not None and self.handle.poll() is None

    def start(self) -> None:
        """Start the process (appending to its log, so a restart keeps the earlier lines)."""
        self._output = self.log.open("ab")
        self.handle = subprocess.Popen(self.argv, stdout=self._output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=self.env, cwd=ROOT)

    def stop(self, seconds: float = 15) -> None:
        """Ask the process to stop, and kill it if it has not within `seconds`."""
        if self.handle is not None:
            if self.handle.poll() is None:
                self.handle.send_signal(self.stop_signal)
                try:
                    self.handle.wait(timeout=seconds)
                except subprocess.TimeoutExpired:
                    self.handle.kill()
                    self.handle.wait(timeout=seconds)
            self.handle = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as an out-of-memory killer or a lost machine
        would: it finishes nothing."""
        if self.handle is not None:
            self.handle.kill()
            self.handle.wait(timeout=15)
            self.handle = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def output(self) -> str:
        """What the process has logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() \
            else ""

    def wait_listening(self, port: int, seconds: float = 30) -> None:
        """Wait until something accepts connections on `port`; fail early if we died."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited:\n{self.output()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} does not listen on {port} after {seconds} s")


class Redis(Process):
    """A Redis server on 127.0.0.1 that keeps nothing on disk; it can be stopped and started
    again on the same port."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__("redis", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(folder), "--protected-mode", "yes",
        ], folder / "redis.log")

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("Redis is not installed: `make system-packages` installs it.")
        super().start()
        self.wait_listening(self.port)


class Gunicorn(Process):
    """gunicorn serving `app` (dsr's wsgi:app unless told) with `workers` sync workers on
    127.0.0.1."""

    # A quick shutdown: what is stopped here has been waited for already.
    stop_signal = signal.SIGINT

    def __init__(self, log: Path, env: Mapping[str, str], workers: int = 2,
                 app: str = "wsgi:app") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__("gunicorn", [
            BIN / "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
            "--graceful-timeout", "10", "--no-control-socket",
            "--access-logfile", "-", "--logger-class", "dsr.web.logs.GunicornLogger", app,
        ], log, env)
        self.size = workers

    def start(self) -> None:
        super().start()
        self.wait_serving()

    def wait_serving(self, seconds: float = 60) -> None:
        """Wait until every worker is up and the home page answers."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"gunicorn exited:\n{self.output()[-3000:]}")
            try:
                if len(self.workers()) == self.size and \
                        requests.get(f"{self.url}/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn does not serve after {seconds} s:\n"
                           f"{self.output()[-3000:]}")

    def workers(self) -> set[int]:
        """The pids of the master's worker processes now."""
        return children(self.pid)

    def worker_using(self, local_port: int) -> int | None:
        """The worker whose TCP connection leaves from `local_port` (such as the client port
        PostgreSQL shows for a backend)."""
        inode = tcp_socket_inode(local_port)
        for pid in self.workers():
            try:
                links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            except OSError:
                continue
            if f"socket:[{inode}]" in links:
                return pid
        return None


def children(pid: int) -> set[int]:
    """The pids of a process's children, read from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the fields follow its end.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def tcp_socket_inode(local_port: int) -> str | None:
    """The inode of the IPv4 TCP socket bound to 127.0.0.1:`local_port`, from /proc/net/tcp."""
    wanted = f"0100007F:{local_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        # A closed connection that left the same port in TIME_WAIT has no inode (0).
        if fields[1] == wanted and fields[9] != "0":
            return fields[9]
    return None


class Consumers:
    """`count` job consumers (`flask jobs worker`), each a process of its own."""

    def __init__(self, folder: Path, env: Mapping[str, str], count: int = 2) -> None:
        self.processes = [
            Process(f"consumer-{number}", [BIN / "flask", "jobs", "worker"],
                    folder / f"consumer-{number}.log", env)
            for number in range(1, count + 1)
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def kill(self) -> None:
        """Kill every consumer at once (SIGKILL), in the middle of whatever it runs."""
        for process in self.processes:
            process.kill()

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()}" for p in self.processes)
