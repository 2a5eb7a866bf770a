"""Zero set-up bootstrap behind `make run`, `make test` and `make bench`.

Standard library only: it runs before `.venv` exists. It creates `.venv` and installs the pinned
dependencies of pyproject.toml, installs missing server packages with apt-get when it may, starts
a private PostgreSQL and Redis (under `var/` for `run`, in a temporary folder for `test` and
`bench`) unless DATABASE_URL / REDIS_URL point at existing ones, and stops them on exit.

    python3 crm/devstack.py run            # web + two workers + beat on http://127.0.0.1:8000
    python3 crm/devstack.py test [pytest args]
    python3 crm/devstack.py bench [args]
    python3 crm/devstack.py manage <command ...>   # manage.py against the var/ servers
    python3 crm/devstack.py backup [--keep N]      # database and media of the var/ servers (crm/backup.py)
    python3 crm/devstack.py restore <folder>|latest [--replace]
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VAR = ROOT / "var"
PY = VENV / "bin" / "python"
RUN_PG_PORT = int(os.environ.get("CRM_PG_PORT", "55432"))
RUN_REDIS_PORT = int(os.environ.get("CRM_REDIS_PORT", "56379"))
PG_USER = "crm"
# One Celery worker per queue, named as docker-compose.yml's services: their -Q (settings.CELERY_TASK_ROUTES says
# which task goes where; the interactive one also takes Celery's default queue).
WORKERS = {"worker-bulk": "bulk", "worker-interactive": "interactive,celery"}


def say(msg: str) -> None:
    print(f"[devstack] {msg}", flush=True)


def die(msg: str) -> None:
    print(f"[devstack] error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# --- packages ---------------------------------------------------------------------------------


def ensure_venv() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()
    stamp = VENV / ".crm-installed"
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        say("creating .venv")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    say("installing pinned dependencies into .venv")
    subprocess.run(
        [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted], check=True
    )
    stamp.write_text(digest)


def find_pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return candidates[-1] if candidates else None


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def ensure_system_packages(*, postgres: bool, redis: bool, browser: bool, gettext: bool,
                           pgbouncer: bool = False) -> None:
    missing: list[str] = []
    if postgres and not (find_pg_bin("initdb") and find_pg_bin("pg_ctl")):
        missing.append("postgresql")
    if pgbouncer and not shutil.which("pgbouncer", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        missing.append("pgbouncer")
    if redis and not shutil.which("redis-server"):
        missing.append("redis-server")
    if browser and not shutil.which("chromium"):
        missing.append("chromium")
    if browser and not glob.glob("/usr/share/fonts/truetype/wqy/*"):
        missing.append("fonts-wqy-microhei")
    if gettext and not shutil.which("xgettext"):
        missing.append("gettext")
    # WeasyPrint (the report e-mails' PDF) loads pango at import; its Chinese needs a CJK font
    if not glob.glob("/usr/lib/*/libpango-1.0.so*") and not glob.glob("/usr/lib/libpango-1.0.so*"):
        missing.append("libpango-1.0-0")
        missing.append("libpangoft2-1.0-0")
    if "fonts-wqy-microhei" not in missing and not glob.glob("/usr/share/fonts/truetype/wqy/*"):
        missing.append("fonts-wqy-microhei")
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        die(f"missing system packages; install them with: sudo {' '.join(command)}")
    say(f"installing {' '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    die(f"{what} did not start on port {port}")


class Postgres:
    """A private cluster in `datadir`. PostgreSQL refuses to run as root, so as root it runs as an
    unprivileged system user (the `postgres` user where it exists)."""

    def __init__(self, datadir: Path, port: int, *, durable: bool, sized: bool = True):
        self.datadir = datadir
        self.port = port
        self.durable = durable
        self.sized = sized
        self.runas = self._unprivileged_user() if os.geteuid() == 0 else None

    @staticmethod
    def _unprivileged_user() -> str:
        for name in ("postgres", "crm-pg"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                return name
        subprocess.run(["useradd", "--system", "--no-create-home", "crm-pg"], check=True)
        return "crm-pg"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.runas, "--", *args] if self.runas else list(args)

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/crm"

    def start(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.runas:
            entry = pwd.getpwnam(self.runas)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
            # The server user must be able to reach the folder.
            for parent in self.datadir.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o011)
        os.chmod(self.datadir, 0o700)
        if not (self.datadir / "PG_VERSION").exists():
            say(f"initialising PostgreSQL in {self.datadir}")
            subprocess.run(
                self._cmd(find_pg_bin("initdb"), "-D", str(self.datadir), "-U", PG_USER, "--auth=trust",
                          "-E", "UTF8", "--locale=C.UTF-8"),
                check=True, stdout=subprocess.DEVNULL,
            )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories="
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if self.sized:
            options += memory_options()
        log = self.datadir / "server.log"
        subprocess.run(
            self._cmd(find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(log), "-o", options,
                      "-w", "-t", "60", "start"),
            check=True, stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, "PostgreSQL")
        say(f"PostgreSQL on 127.0.0.1:{self.port}")

    def ensure_database(self) -> None:
        psql = find_pg_bin("psql")
        base = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", "postgres", "-tAc"]
        exists = subprocess.run([*base, "SELECT 1 FROM pg_database WHERE datname='crm'"],
                                check=True, capture_output=True, text=True).stdout.strip()
        if not exists:
            subprocess.run([*base, "CREATE DATABASE crm"], check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(self._cmd(find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def standby_start(folder: Path, *, host: str, port: int, user: str, sized: bool = False) -> Postgres:
    """A hot standby of the cluster at host:port, streaming from it, started in `folder`/data: a pg_basebackup of
    the whole cluster (-R writes standby.signal and the primary's conninfo), then PostgreSQL on a free port. The
    private clusters trust their local clients, replication included. Used by tests/crm/test_replica.py and by
    `make bench ARGS="--only replica"`; the caller stops it (and removes `folder`)."""
    server = Postgres(folder / "data", free_port(), durable=False, sized=sized)
    if server.runas:  # PostgreSQL runs as an unprivileged user, who must own the folder pg_basebackup writes
        shutil.chown(folder, server.runas)
    subprocess.run(server._cmd(
        find_pg_bin("pg_basebackup"), "-h", host, "-p", str(port), "-U", user, "-D", str(server.datadir), "-R",
        "-X", "stream", "-c", "fast"), check=True, env={**os.environ})
    (server.datadir / "server.log").unlink(missing_ok=True)  # the primary's, copied
    server.start()
    return server


def memory_options() -> str:
    """PostgreSQL sized for the machine, as a production server would be (docker-compose.yml sets the same):
    a quarter of the memory for shared buffers, up to 4 GB (the default 128 MB holds a tenth of a
    million-customer archive, and every page read beyond it is copied from the OS cache), and checkpoints
    spaced for bulk loads (an import or the demo seed)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20  # MB
    shared = min(max(memory // 4, 128), 4096)
    return (f" -c shared_buffers={shared}MB -c effective_cache_size={max(memory // 2, shared)}MB"
            " -c maintenance_work_mem=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min")


class PgBouncer:
    """Debian's PgBouncer in transaction mode in front of a private cluster, as docker-compose.yml's `pgbouncer`
    service is in front of `postgres`: any database name reaches the same-named one there (the tests create
    theirs). Like PostgreSQL it refuses to run as root."""

    def __init__(self, datadir: Path, port: int, pg: Postgres):
        self.datadir = datadir
        self.port = port
        self.pg = pg
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/crm"

    def start(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        ini = self.datadir / "pgbouncer.ini"
        users = self.datadir / "users.txt"
        users.write_text(f'"{PG_USER}" ""\n"{APP_ROLE}" ""\n')
        ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.pg.port}\n"  # as the client's user: the owner, or crm_app
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            # trust: the users of auth_file, as themselves (the cluster trusts them too); `any` would log every
            # client in as one configured user
            f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\n"
            "max_client_conn = 500\ndefault_pool_size = 40\n"
            "ignore_startup_parameters = extra_float_digits\nlog_connections = 0\nlog_disconnections = 0\n"
            f"logfile = {self.datadir / 'pgbouncer.log'}\n"
        )
        if self.pg.runas:
            entry = pwd.getpwnam(self.pg.runas)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        binary = shutil.which("pgbouncer", path=os.environ.get("PATH", "") + ":/usr/sbin") or "pgbouncer"
        self.proc = subprocess.Popen(self.pg._cmd(binary, "--quiet", str(ini)), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)  # the log is in the file
        wait_for_port(self.port, "PgBouncer")
        say(f"PgBouncer (transaction pooling) on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)


class Redis:
    def __init__(self, datadir: Path, port: int, *, durable: bool):
        self.datadir = datadir
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        save = ["--save", "300 1"] if self.durable else ["--save", ""]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.datadir),
             "--appendonly", "no", "--protected-mode", "yes", *save,
             "--logfile", str(self.datadir / "redis.log")],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, "Redis")
        say(f"Redis on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)


@contextlib.contextmanager
def servers(folder: Path, *, durable: bool, pg_port: int, redis_port: int, sized: bool = True,
            pooler_port: int | None = None):
    """Yield the environment pointing at the servers; start private ones unless given. `sized`: PostgreSQL
    gets memory for the machine (not for the tests' small throw-away databases). `pooler_port`: a PgBouncer in
    front of the private PostgreSQL too, its URL in POOLED_DATABASE_URL (unless given)."""
    env = dict(os.environ)
    started: list = []
    try:
        if not env.get("DATABASE_URL"):
            pg = Postgres(folder / "pg", pg_port, durable=durable, sized=sized)
            pg.start()
            started.append(pg)
            pg.ensure_database()
            env["DATABASE_URL"] = pg.url
            if pooler_port and not env.get("POOLED_DATABASE_URL"):
                bouncer = PgBouncer(folder / "pgbouncer", pooler_port, pg)
                bouncer.start()
                started.append(bouncer)
                env["POOLED_DATABASE_URL"] = bouncer.url
        if not env.get("REDIS_URL"):
            redis = Redis(folder / "redis", redis_port, durable=durable)
            redis.start()
            started.append(redis)
            env["REDIS_URL"] = redis.url
        yield env
    finally:
        for server in reversed(started):
            server.stop()


def secret_key() -> str:
    path = VAR / "secret_key"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def manage(env: dict, *args: str) -> None:
    subprocess.run([str(PY), "manage.py", *args], cwd=ROOT, env=env, check=True)


# --- commands ---------------------------------------------------------------------------------


def cmd_run(_args: list[str]) -> int:
    ensure_venv()
    ensure_system_packages(postgres=not os.environ.get("DATABASE_URL"),
                           redis=not os.environ.get("REDIS_URL"), browser=False, gettext=False)
    with servers(VAR, durable=True, pg_port=RUN_PG_PORT, redis_port=RUN_REDIS_PORT) as env:
        env.setdefault("DEBUG", "1")
        env.setdefault("SECRET_KEY", secret_key())
        env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
        manage(env, "migrate", "--no-input")
        manage(env, "seed_demo")
        bin_ = VENV / "bin"
        procs = {
            "web": [str(PY), "manage.py", "runserver", "127.0.0.1:8000"],
            **{name: [str(bin_ / "celery"), "-A", "crm", "worker", "-l", "info", "--concurrency", "2",
                      "-Q", queues, "-n", f"{name.removeprefix('worker-')}@%h"]
               for name, queues in WORKERS.items()},
            "beat": [str(bin_ / "celery"), "-A", "crm", "beat", "-l", "info"],
        }
        # Each child leads its own process group: Ctrl-C reaches only this supervisor, which then
        # stops every group (runserver's reloader has a child of its own).
        children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
                    for name, cmd in procs.items()}
        say("serving on http://127.0.0.1:8000 (demo logins in README.md); Ctrl-C stops everything")
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            while all(p.poll() is None for p in children.values()):
                time.sleep(0.5)
            dead = [name for name, p in children.items() if p.poll() is not None]
            say(f"{', '.join(dead)} stopped; stopping the rest")
            return 1
        except KeyboardInterrupt:
            say("stopping")
            return 0
        finally:
            stop_groups(children.values())


def stop_groups(procs) -> None:
    procs = list(procs)
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)


# The tests that `make test` runs a second time as production runs: through PgBouncer in transaction mode
# (DB_POOLED=1) and as the row-level-security role crm_app (DB_RLS=1): the customer pages, creation, imports and
# exports, the calls and their races, the jobs on real Celery workers, the webhooks, the login and password reset,
# and every URL for every persona. CRM_POOLED_TESTS to choose others ("" for none).
POOLED_TESTS = " ".join([
    "tests/crm/test_pooler_safe.py",
    "tests/customers/test_customers_views.py",
    "tests/customers/test_customers_create.py",
    "tests/customers/test_imports.py",
    "tests/customers/test_exports.py",
    "tests/service/test_calls.py",
    "tests/service/test_calls_concurrency.py",
    "tests/service/test_generation_worker.py",
    "tests/service/test_survey_sending.py",
    "tests/service/test_survey_worker.py",
    "tests/api/test_webhooks_concurrency.py",
    "tests/api/test_webhooks.py",
    "tests/accounts/test_views_auth.py",
    "tests/security/test_url_matrix.py",
])


def cmd_test(args: list[str]) -> int:
    ensure_venv()
    pooled_tests = os.environ.get("CRM_POOLED_TESTS", "" if args else POOLED_TESTS).split()
    ensure_system_packages(postgres=not os.environ.get("DATABASE_URL"),
                           redis=not os.environ.get("REDIS_URL"), browser=True, gettext=True,
                           pgbouncer=bool(pooled_tests) and not os.environ.get("DATABASE_URL"))
    with tempfile.TemporaryDirectory(prefix="crm-test-") as tmp:
        with servers(Path(tmp), durable=False, pg_port=free_port(), redis_port=free_port(), sized=False,
                     pooler_port=free_port() if pooled_tests else None) as env:
            env.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(40))
            env["DEBUG"] = "0"
            env.setdefault("ALLOWED_HOSTS", "*")
            env["CRM_TESTING"] = "1"
            env.setdefault("MEDIA_ROOT", str(Path(tmp) / "media"))  # uploads and exports of the tests
            pytest = [str(PY), "-m", "pytest"]
            code = subprocess.run([*pytest, *args], cwd=ROOT, env=env).returncode
            if not pooled_tests:
                return code
            if not env.get("POOLED_DATABASE_URL"):
                say("no POOLED_DATABASE_URL for the given DATABASE_URL: the tests through PgBouncer are skipped")
                return code
            say(f"again through PgBouncer in transaction mode, as the RLS-bound role {APP_ROLE}: "
                f"{' '.join(pooled_tests)}")
            rls_test_database(env)
            # --reuse-db: the pooler keeps server connections to the test database open, so it is not dropped
            # at the end (the throw-away cluster goes with the folder).
            pooled = {**env, "DATABASE_URL": app_role_url(env["POOLED_DATABASE_URL"]), "DB_POOLED": "1",
                      "DB_RLS": "1"}
            again = subprocess.run([*pytest, "-m", "not browser", "--reuse-db", *pooled_tests], cwd=ROOT,
                                   env=pooled).returncode
            return code or again


APP_ROLE = "crm_app"  # crm.rls.APP_ROLE (devstack runs before Django is set up)


def app_role_url(url: str) -> str:
    """`url` (the private cluster's, or its PgBouncer's) logging in as crm_app: both trust their local clients,
    so it needs no password."""
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=f"{APP_ROLE}@{parts.hostname}:{parts.port}").geturl()


def app_role_create(env: dict) -> None:
    """`rls_role` as the owner in env's database: crm_app as a login role, with a password never asked for."""
    manage({**env, "CRM_APP_PASSWORD": secrets.token_urlsafe(24)}, "rls_role", "--password-env", "CRM_APP_PASSWORD")


def rls_test_database(env: dict) -> None:
    """The pass as the application's role finds its test database ready, as production finds the database that
    `migrate` and `rls_role` made as the owner: created and migrated by the owner (the private cluster's
    superuser), `rls_role` run in it, and — for the test harness alone — TRUNCATE granted, which Django's flush
    after each transactional test uses and the role is otherwise refused."""
    url = urllib.parse.urlsplit(env["DATABASE_URL"])
    name = "test_" + url.path.lstrip("/")
    manage(env, "shell", "-c", "from django.db import connection; c = connection.cursor(); "
           f"c.execute(\"SELECT 1 FROM pg_database WHERE datname = '{name}'\"); "
           f"c.fetchone() or c.execute('CREATE DATABASE {name}')")
    test_db = {**env, "DATABASE_URL": url._replace(path="/" + name).geturl()}
    manage(test_db, "migrate", "--verbosity=0")
    app_role_create(test_db)
    manage(test_db, "shell", "-c", "from django.db import connection; connection.cursor().execute("
           f"'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}')")


def cmd_bench(args: list[str]) -> int:
    ensure_venv()
    ensure_system_packages(postgres=not os.environ.get("DATABASE_URL"),
                           redis=not os.environ.get("REDIS_URL"), browser=False, gettext=False,
                           pgbouncer=not os.environ.get("DATABASE_URL"))
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        with servers(Path(tmp), durable=False, pg_port=free_port(), redis_port=free_port(),
                     pooler_port=free_port()) as env:
            env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
            env["DEBUG"] = "0"
            env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
            env.setdefault("MEDIA_ROOT", str(Path(tmp) / "media"))
            return subprocess.run([str(PY), "-m", "tests.bench", *args], cwd=ROOT, env=env).returncode


def cmd_manage(args: list[str]) -> int:
    ensure_venv()
    with servers(VAR, durable=True, pg_port=RUN_PG_PORT, redis_port=RUN_REDIS_PORT) as env:
        env.setdefault("DEBUG", "1")
        env.setdefault("SECRET_KEY", secret_key())
        return subprocess.run([str(PY), "manage.py", *args], cwd=ROOT, env=env).returncode


def cmd_backup(args: list[str]) -> int:
    return _backup_main("backup", args)


def cmd_restore(args: list[str]) -> int:
    return _backup_main("restore", args)


def _backup_main(command: str, args: list[str]) -> int:
    """crm/backup.py against the database of `make run` (or DATABASE_URL) and var/media (or MEDIA_ROOT). A server
    that `make run` keeps running in another terminal is used as it is; else var/pg is started for the command
    (for a restore onto a new machine: created, with an empty database to restore into) and stopped after."""
    if __package__:
        from crm import backup
    else:  # python3 crm/devstack.py: the sibling module, without the crm package (Django is not installed)
        import backup
    env = dict(os.environ)
    if env.get("DATABASE_URL") or env.get("BACKUP_DATABASE_URL"):
        return backup.main([command, *args], env)
    pg = Postgres(VAR / "pg", RUN_PG_PORT, durable=True)
    running = False
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", RUN_PG_PORT), timeout=0.5):
        running = True
    if running:
        return backup.main([command, *args], {**env, "DATABASE_URL": pg.url})
    if command == "backup" and not (VAR / "pg" / "PG_VERSION").exists():
        die(f"no database of make run under {VAR / 'pg'}: nothing to back up (DATABASE_URL for another one)")
    if not find_pg_bin("initdb"):
        die("PostgreSQL is not installed: make run installs it (or: apt-get install postgresql)")
    pg.start()
    try:
        pg.ensure_database()
        return backup.main([command, *args], {**env, "DATABASE_URL": pg.url})
    finally:
        pg.stop()


COMMANDS = {"run": cmd_run, "test": cmd_test, "bench": cmd_bench, "manage": cmd_manage, "backup": cmd_backup,
            "restore": cmd_restore}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die(f"usage: devstack.py {{{'|'.join(COMMANDS)}}} [args]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
