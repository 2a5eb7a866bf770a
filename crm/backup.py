"""Backups that restore: the database and the media files, behind `make backup` and `make restore`.

Standard library only, like crm/devstack.py that calls it: it runs before `.venv` exists, and on a server that
has only PostgreSQL's client tools. One backup is one folder, `<BACKUP_DIR>/crm-<UTC time>/`:

    database.dump   pg_dump --format=custom of the database (restored with pg_restore)
    media.tar.gz    the files under MEDIA_ROOT (customer documents, exports)
    manifest.json   when, from which server and migrations, how big; for the operator to read
    SHA256SUMS      `sha256sum --check` format: a restore refuses a copy that does not match

docker-compose.yml's `backup` service writes and reads the same layout with a shell script, so a backup made
on a compose server restores with `make restore` and the other way round.

    python3 crm/devstack.py backup [--keep N]
    python3 crm/devstack.py restore <folder>|latest [--replace]

Settings (from the environment): DATABASE_URL (BACKUP_DATABASE_URL wins when set: a direct connection when the
application's goes through a pooler), MEDIA_ROOT (var/media by default, as crm/settings.py), BACKUP_DIR
(var/backups by default), BACKUP_KEEP (the default of --keep). Messages are for the operator at a terminal and
are not translated, as devstack's are not.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DUMP = "database.dump"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
PREFIX = "crm-"
PARTIAL = ".partial"  # a backup being written (or cut off): never restored, never counted by --keep
# Query parameters of a DATABASE_URL that libpq reads from the environment.
URL_OPTIONS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
               "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}
# What makes a database "not empty": a table outside PostgreSQL's own schemas.
TABLES_SQL = ("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
              " WHERE c.relkind IN ('r', 'p')"
              " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
              " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'")
MIGRATIONS_SQL = ("SELECT CASE WHEN to_regclass('django_migrations') IS NULL THEN '{}' ELSE ("
                  "SELECT coalesce(json_object_agg(app, name ORDER BY app), '{}') FROM ("
                  "SELECT app, max(name) AS name FROM django_migrations GROUP BY app) m) END")


class BackupError(Exception):
    """A refusal or a failure, in words for the operator; main() prints it and exits 1."""


def say(msg: str) -> None:
    print(f"[backup] {msg}", flush=True)


# --- PostgreSQL -------------------------------------------------------------------------------------------


class Database:
    """The database of a postgres:// URL, reached by the client tools through libpq's PG* variables (so the
    password is never on a command line, where `ps` would show it)."""

    def __init__(self, url: str, base_env: dict | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BackupError("DATABASE_URL must be a postgres:// URL")
        self.name = unquote(parts.path.lstrip("/")) or "postgres"
        self.host = unquote(parts.hostname or "") or "localhost"
        self.port = parts.port or 5432
        env = {k: v for k, v in (base_env if base_env is not None else os.environ).items()
               if not k.startswith("PG")}
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGDATABASE=self.name)
        if parts.username:
            env["PGUSER"] = unquote(parts.username)
        if parts.password:
            env["PGPASSWORD"] = unquote(parts.password)
        for key, value in parse_qsl(parts.query):
            if key in URL_OPTIONS:
                env[URL_OPTIONS[key]] = value
        self.env = env
        self._major: int | None = None

    def __str__(self) -> str:
        return f"{self.name} on {self.host}:{self.port}"

    def query(self, sql: str, *, database: str | None = None, **variables: str) -> str:
        """One statement through psql; `:'name'` in the SQL is the quoted value of the variable `name`."""
        args = [_any_tool("psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", database or self.name]
        for key, value in variables.items():
            args += ["-v", f"{key}={value}"]
        done = subprocess.run(args, input=sql + ";\n", env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"psql on {self}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout.strip()

    @property
    def major(self) -> int:
        if self._major is None:
            where = self.name if self.exists() else "postgres"
            self._major = int(self.query("SHOW server_version_num", database=where)) // 10000
        return self._major

    def exists(self) -> bool:
        """Asked of the database itself first: a user without CREATEDB may still restore into an empty database
        made for them, and may not be let into the `postgres` one."""
        try:
            return self.query("SELECT 1") == "1"
        except BackupError as error:
            if "does not exist" not in str(error):
                raise
        return False

    def tool(self, name: str) -> str:
        return pg_tool(name, self.major)

    def run(self, *args: str) -> str:
        done = subprocess.run(list(args), env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"{Path(args[0]).name} on {self} failed:\n{done.stderr.strip()[-4000:]}")
        return done.stdout


def pg_tool(name: str, major: int) -> str:
    """The client program of the server's major version: pg_dump refuses a newer server, and a newer pg_dump
    or pg_restore may write settings an older server does not know (pg_dump 17's transaction_timeout). Failing
    that, the nearest newer one, said aloud."""
    exact = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if exact.exists():
        return str(exact)
    versions = {}
    for found in (shutil.which(name), *glob.glob(f"/usr/lib/postgresql/*/bin/{name}")):
        version = _tool_major(found) if found else None
        if version is not None and version >= major:
            versions.setdefault(version, found)
    if not versions:
        raise BackupError(f"no {name} of PostgreSQL {major} or newer (the server is {major}); "
                          f"install postgresql-client-{major}")
    nearest = min(versions)
    if nearest != major:
        say(f"using {name} {nearest} for a PostgreSQL {major} server (postgresql-client-{major} would match it)")
    return versions[nearest]


def _any_tool(name: str) -> str:
    """psql of any version: its queries here work on every server."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        raise BackupError(f"no {name}; install postgresql-client")
    return found


def _tool_major(path: str) -> int | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        text = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
        found = re.search(r"\)\s+(\d+)", text)
        return int(found.group(1)) if found else None
    return None


# --- files ------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def size_text(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def files_text(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()) if root.is_dir() else []


def _remove_contents(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def backups_in(folder: Path) -> list[Path]:
    """The complete backups in `folder`, oldest first (by the time their manifest gives)."""
    found = []
    for path in folder.glob(f"{PREFIX}*"):
        if path.is_dir() and not path.name.endswith(PARTIAL) and (path / MANIFEST).is_file():
            with contextlib.suppress(ValueError, OSError):
                found.append((json.loads((path / MANIFEST).read_text()).get("created_at", ""), path.name, path))
    return [path for *_key, path in sorted(found)]


# --- backup -----------------------------------------------------------------------------------------------


def backup_create(*, db: Database, media_root: Path, backup_dir: Path, keep: int | None = None) -> Path:
    """Dump the database and archive the media into a new folder; written as `<name>.partial` and renamed when
    complete, so a backup cut off half-way is never taken for one. Then prune to the `keep` newest."""
    started = time.monotonic()
    now = datetime.now(UTC)
    backup_dir.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}"
    for n in range(2, 100):
        if not (backup_dir / name).exists() and not (backup_dir / f"{name}{PARTIAL}").exists():
            break
        name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}-{n}"
    final, partial = backup_dir / name, backup_dir / f"{name}{PARTIAL}"
    partial.mkdir()
    try:
        pg_dump = db.tool("pg_dump")
        migrations = json.loads(db.query(MIGRATIONS_SQL))
        version = db.query("SHOW server_version")
        # one snapshot of the whole database: consistent while the application keeps writing
        db.run(pg_dump, "--format=custom", "--no-password", f"--file={partial / DUMP}", f"--dbname={db.name}")
        # read the dump back: a file pg_restore cannot list is no backup
        toc = [line for line in db.run(db.tool("pg_restore"), "--list", str(partial / DUMP)).splitlines()
               if line and not line.startswith(";")]
        files = media_files(media_root)
        with tarfile.open(partial / MEDIA, "w:gz") as tar:
            for path in files:
                tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
        sums = {part: sha256_of(partial / part) for part in (DUMP, MEDIA)}
        (partial / SUMS).write_text("".join(f"{digest}  {part}\n" for part, digest in sums.items()))
        manifest = {
            "format": 1,
            "created_at": now.isoformat(timespec="microseconds"),
            "written_by": "make backup (crm/backup.py)",
            "database": {"name": db.name, "host": db.host, "port": db.port, "server_version": version,
                         "pg_dump": _version_line(pg_dump), "toc_entries": len(toc),
                         "tables": sum(" TABLE DATA " in line for line in toc), "migrations": migrations},
            "media": {"root": str(media_root), "files": len(files),
                      "bytes": sum(p.stat().st_size for p in files if p.is_file())},
            "files": {part: {"bytes": (partial / part).stat().st_size, "sha256": digest}
                      for part, digest in sums.items()},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    say(f"backed up {db} ({manifest['database']['tables']} tables, {size_text(manifest['files'][DUMP]['bytes'])})"
        f" and {files_text(len(files))} of media from {media_root} ({size_text(manifest['files'][MEDIA]['bytes'])})"
        f" in {time.monotonic() - started:.1f} s")
    say(f"backup: {final}")
    if keep:
        backups_prune(backup_dir=backup_dir, keep=keep)
    return final


def backups_prune(*, backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest complete backups of the folder; partial ones and other files stay."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    old = backups_in(backup_dir)[:-keep]
    for path in old:
        shutil.rmtree(path)
        say(f"deleted the old backup {path.name} (--keep {keep})")
    return old


def _version_line(program: str) -> str:
    done = subprocess.run([program, "--version"], capture_output=True, text=True)
    return done.stdout.strip()


# --- restore ----------------------------------------------------------------------------------------------


def backup_find(source: str, backup_dir: Path) -> Path:
    """A backup folder: a path, a name in BACKUP_DIR, or `latest`."""
    if source == "latest":
        found = backups_in(backup_dir)
        if not found:
            raise BackupError(f"no backup in {backup_dir}")
        return found[-1]
    for path in (Path(source), backup_dir / source):
        if path.is_dir():
            return path
    raise BackupError(f"no backup folder {source} (nor {backup_dir / source})")


def backup_verify(folder: Path) -> dict:
    """The manifest of a backup whose files all match SHA256SUMS; a refusal for a missing or changed file."""
    if not (folder / SUMS).is_file():
        raise BackupError(f"{folder} is not a backup: it has no {SUMS}")
    listed = {}
    for line in (folder / SUMS).read_text().splitlines():
        digest, _sep, part = line.partition("  ")
        listed[part.lstrip("*")] = digest
    for part in (DUMP, MEDIA):
        if part not in listed or not (folder / part).is_file():
            raise BackupError(f"{folder} is incomplete: {part} is missing")
        if sha256_of(folder / part) != listed[part]:
            raise BackupError(f"{folder / part} does not match its checksum in {SUMS}: the copy is damaged")
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def backup_restore(*, folder: Path, db: Database, media_root: Path, replace: bool = False) -> None:
    """Restore a verified backup into `db` (created when missing) and `media_root`. Both must be empty unless
    `replace`: then the database is dropped and created again (no session may be connected: stop web, workers
    and beat first) and the media folder emptied, after the database restored."""
    started = time.monotonic()
    manifest = backup_verify(folder)
    files = manifest.get("files", {})
    say(f"checked {folder.name}: made {manifest.get('created_at', '?')}, {DUMP} "
        f"{size_text((folder / DUMP).stat().st_size)}, {MEDIA} {size_text((folder / MEDIA).stat().st_size)}"
        f" (checksums match{'' if files else '; no manifest'})")
    exists = db.exists()
    tables = int(db.query(TABLES_SQL)) if exists else 0
    media_used = media_files(media_root)
    if (tables or media_used) and not replace:
        held = [f"the database {db} holds {tables} tables"] if tables else []
        held += [f"{media_root} holds {files_text(len(media_used))}"] if media_used else []
        raise BackupError(f"{' and '.join(held)}; restore writes only into an empty database and media folder. "
                          "Restore elsewhere, or pass --replace to drop and re-create them "
                          "(after stopping web, workers and beat)")
    if exists and replace:
        sessions = int(db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = :'name'",
                                database="postgres", name=db.name))
        if sessions:
            raise BackupError(f"{sessions} sessions are connected to {db}: stop web, workers and beat first")
        db.query('DROP DATABASE :"name"', database="postgres", name=db.name)
        say(f"dropped the database {db}")
        exists = False
    if not exists:
        db.query("""CREATE DATABASE :"name" TEMPLATE template0 ENCODING 'UTF8'""", database="postgres",
                 name=db.name)
        say(f"created the database {db}")
    pg_restore = db.tool("pg_restore")
    # one transaction: a restore that fails half-way leaves the database as empty as it found it
    db.run(pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", "--no-password",
           f"--dbname={db.name}", str(folder / DUMP))
    # the dump carries no planner statistics: without them the first queries on big tables plan blind
    db.query("ANALYZE")
    say(f"restored {int(db.query(TABLES_SQL))} tables into {db} with {_version_line(pg_restore)}"
        " (one transaction) and analysed them")
    media_root.mkdir(parents=True, exist_ok=True)
    if media_used:
        _remove_contents(media_root)
        say(f"emptied {media_root} ({files_text(len(media_used))})")
    try:
        with tarfile.open(folder / MEDIA, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            tar.extractall(media_root, filter="data")  # no absolute paths, no ../, no device files
    except tarfile.TarError as error:
        raise BackupError(f"the database is restored, the media are not: {folder / MEDIA}: {error}") from error
    if os.geteuid() == 0:  # the files belong to whoever owns the folder (the app's user), not to root
        owner = media_root.stat()
        for path in media_root.rglob("*"):
            os.lchown(path, owner.st_uid, owner.st_gid)
    say(f"restored {files_text(len(members))} of media ({size_text(sum(m.size for m in members))}) into {media_root}")
    migrations = manifest.get("database", {}).get("migrations")
    if migrations:
        say("the backup's last migrations: " + ", ".join(f"{app} {name}" for app, name in migrations.items()))
        say("newer code migrates on start (make run; docker compose's migrate service)")
    say(f"done in {time.monotonic() - started:.1f} s")


# --- command line -----------------------------------------------------------------------------------------


def main(argv: list[str], env: dict | None = None) -> int:
    env = dict(os.environ if env is None else env)
    parser = argparse.ArgumentParser(prog="crm/backup.py", description="Back up or restore the database and media.")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="a new backup folder under BACKUP_DIR (var/backups)")
    make.add_argument("--keep", type=int, default=int(env["BACKUP_KEEP"]) if env.get("BACKUP_KEEP") else None,
                      help="then delete all but the N newest backups (BACKUP_KEEP; default: keep all)")
    restore = commands.add_parser("restore", help="restore a backup folder into an empty database and media")
    restore.add_argument("source", help="a backup folder, its name in BACKUP_DIR, or latest")
    restore.add_argument("--replace", action="store_true",
                         help="drop and re-create a database that is not empty, and empty the media folder")
    args = parser.parse_args(argv)

    url = env.get("BACKUP_DATABASE_URL") or env.get("DATABASE_URL")
    backup_dir = Path(env.get("BACKUP_DIR") or ROOT / "var" / "backups")
    media_root = Path(env.get("MEDIA_ROOT") or ROOT / "var" / "media")
    try:
        if not url:
            raise BackupError("set DATABASE_URL (make backup / make restore set it to the database of make run)")
        db = Database(url, env)
        if args.command == "backup":
            backup_create(db=db, media_root=media_root, backup_dir=backup_dir, keep=args.keep)
        else:
            backup_restore(folder=backup_find(args.source, backup_dir), db=db, media_root=media_root,
                           replace=args.replace)
    except BackupError as error:
        print(f"[backup] error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
