"""Backups that restore (crm/backup.py behind `make backup` / `make restore`, and docker compose's `backup`
service): a backup of the seeded test database and its media, restored into a new database on the same server,
where the demo director logs in and sees the same customers and opens the same document.

pg_dump reads what is committed: the session's seed (tests/conftest.py), not this test's transaction."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from django.conf import settings
from django.db import connection
from django_scopes import scope

from crm import backup
from customers.models import CustomerDocument
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
# every table's row count, in one statement
COUNTS_SQL = """SELECT json_object_agg(table_name, (xpath('/row/c/text()', query_to_xml(
    format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::int)
    FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"""
# The restored application, in a process of its own whose DATABASE_URL and MEDIA_ROOT are the restored ones:
# the director logs in through the login form, lists the customers and downloads a document.
APP = """
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
login = client.post("/accounts/login/", {"username": "demo.director", "password": sys.argv[1]})
customers = client.get("/customers/", {"sort": "name"})
document = client.get(sys.argv[2])
body = b"".join(document.streaming_content) if document.streaming else document.content
print(json.dumps({"login": [login.status_code, login.get("Location")], "customers": customers.content.decode(),
                  "document": [document.status_code, body.hex()]}))
"""


def url_of(name: str) -> str:
    """A postgres:// URL of database `name` on the test server, as DATABASE_URL would give it."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"


def names_on(page: str) -> set[str]:
    return set(re.findall(r'href="/customers/\d+/">([^<]+)</a>', page))


def counts(db: backup.Database) -> dict:
    return json.loads(db.query(COUNTS_SQL))


@pytest.fixture
def databases():
    """databases() → a new database name on the test server (not created); all of them dropped afterwards."""
    made = []

    def make():
        made.append(f"restored_{secrets.token_hex(4)}")
        return made[-1]

    yield make
    for name in made:
        backup.Database(url_of(name)).query('DROP DATABASE IF EXISTS :"name" WITH (FORCE)', database="postgres",
                                            name=name)


def run(*argv: str, database: str, media: Path, backups: Path) -> int:
    """crm/backup.py's command line, as `make backup` / `make restore` call it (through crm/devstack.py)."""
    env = {**os.environ, "DATABASE_URL": url_of(database), "MEDIA_ROOT": str(media), "BACKUP_DIR": str(backups)}
    env.pop("BACKUP_KEEP", None)
    env.pop("BACKUP_DATABASE_URL", None)
    return backup.main(list(argv), env)


def the_app_on(database: str, media: Path, document: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url_of(database), "MEDIA_ROOT": str(media),
           "DJANGO_SETTINGS_MODULE": "crm.settings"}
    done = subprocess.run([sys.executable, "-c", APP, DEMO_PASSWORD, document], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_backup_restores_into_a_new_database_where_the_director_sees_the_same_customers(
        demo, client_as, databases, tmp_path, capsys):
    original = connection.settings_dict["NAME"]
    media = Path(settings.MEDIA_ROOT)
    with scope(tenant=demo):
        contract = CustomerDocument.objects.get(title="购车合同.pdf")
    document = f"/customers/documents/{contract.pk}/"
    contract_bytes = (media / contract.file.name).read_bytes()
    seen_before = client_as("demo.director").get("/customers/", {"sort": "name"}).content.decode()
    assert {"王芳", "李强", "赵敏"} <= names_on(seen_before)

    backups = tmp_path / "backups"
    assert run("backup", database=original, media=media, backups=backups) == 0
    [made] = backup.backups_in(backups)
    assert sorted(p.name for p in made.iterdir()) == ["SHA256SUMS", "database.dump", "manifest.json", "media.tar.gz"]
    manifest = json.loads((made / "manifest.json").read_text())
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(name) FROM django_migrations WHERE app = 'customers'")
        assert manifest["database"]["migrations"]["customers"] == cursor.fetchone()[0]
    assert manifest["media"]["files"] >= 1 and manifest["database"]["tables"] > 50
    assert f"backup: {made}" in capsys.readouterr().out

    restored, restored_media = databases(), tmp_path / "restored-media"
    assert run("restore", str(made), database=restored, media=restored_media, backups=backups) == 0
    said = capsys.readouterr().out
    assert f"created the database {restored}" in said
    assert f"restored {backup.files_text(manifest['media']['files'])} of media" in said

    # every table holds as many rows as the original; the contract's file is back, byte for byte
    before = counts(backup.Database(url_of(original)))
    assert counts(backup.Database(url_of(restored))) == before and before["customers_customer"] >= 8
    assert (restored_media / contract.file.name).read_bytes() == contract_bytes

    app = the_app_on(restored, restored_media, document)
    assert app["login"] == [302, "/"]
    assert names_on(app["customers"]) == names_on(seen_before)
    assert app["document"] == [200, contract_bytes.hex()]


def test_restore_refuses_a_database_that_is_not_empty_unless_told_to_replace_it(databases, tmp_path, capsys):
    backups, media = tmp_path / "backups", tmp_path / "media"
    (media / "documents").mkdir(parents=True)
    (media / "documents" / "note.txt").write_text("备份前写的文件")
    assert run("backup", "--keep", "1", database=connection.settings_dict["NAME"], media=media,
               backups=backups) == 0
    [made] = backup.backups_in(backups)
    target, target_media = databases(), tmp_path / "target-media"
    assert run("restore", "latest", database=target, media=target_media, backups=backups) == 0
    db = backup.Database(url_of(target))
    db.query("UPDATE customers_customer SET name = '改过的名字' WHERE name = '王芳'")
    (target_media / "documents" / "note.txt").write_text("改过的文件")
    capsys.readouterr()

    # a second restore over it is refused, and nothing is touched
    assert run("restore", made.name, database=target, media=target_media, backups=backups) == 1
    refusal = capsys.readouterr().err
    assert f"the database {target} on" in refusal and "--replace" in refusal
    assert db.query("SELECT count(*) FROM customers_customer WHERE name = '改过的名字'") == "2"
    assert (target_media / "documents" / "note.txt").read_text() == "改过的文件"

    # a damaged copy is refused before anything is touched, even with --replace
    damaged = tmp_path / "damaged"
    shutil.copytree(made, damaged)
    with (damaged / "database.dump").open("r+b") as f:
        f.truncate(f.seek(0, 2) // 2)
    assert run("restore", str(damaged), "--replace", database=target, media=target_media, backups=backups) == 1
    assert "does not match its checksum" in capsys.readouterr().err
    assert db.query("SELECT count(*) FROM customers_customer WHERE name = '改过的名字'") == "2"

    # told to replace: the database and the media are the backup's again
    assert run("restore", made.name, "--replace", database=target, media=target_media, backups=backups) == 0
    assert f"dropped the database {target}" in capsys.readouterr().out
    assert db.query("SELECT count(*) FROM customers_customer WHERE name = '改过的名字'") == "0"
    assert db.query("SELECT count(*) FROM customers_customer WHERE name = '王芳'") == "2"
    assert (target_media / "documents" / "note.txt").read_text() == "备份前写的文件"

    # `make backup ARGS="--keep 1"` (devstack as a script, before .venv exists: Django is not imported): the new
    # backup deletes this one; a backup cut off half-way is left alone
    (backups / "crm-20000101T000000Z.partial").mkdir()
    env = {**os.environ, "DATABASE_URL": url_of(connection.settings_dict["NAME"]), "MEDIA_ROOT": str(media),
           "BACKUP_DIR": str(backups)}
    done = subprocess.run([sys.executable, "crm/devstack.py", "backup", "--keep", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"deleted the old backup {made.name} (--keep 1)" in done.stdout
    [newer] = backup.backups_in(backups)
    assert newer != made and not made.exists() and (backups / "crm-20000101T000000Z.partial").exists()


# --- docker compose's backup service ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_script():
    """The shell script of docker-compose.yml's `backup` service, as the container's sh reads it (compose turns
    `$$` into `$`), and how to run it here: PG* variables and folders in place of the container's."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["backup"]
    shell, flags, script, name = service["entrypoint"]
    assert service["image"].split(":")[1] == "15" and shell == "sh" and "e" in flags
    script = script.replace("$$", "$")
    bin_dir = str(Path(backup.pg_tool("pg_dump", 15)).parent)  # the image's PATH has its server's tools

    def run_script(*args, database, port=None, **folders):
        s = connection.settings_dict
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PGHOST": s["HOST"] or "localhost",
               "PGPORT": str(port or s["PORT"] or 5432), "PGUSER": s["USER"], "PGPASSWORD": s["PASSWORD"] or "",
               "PGDATABASE": database, **{key: str(value) for key, value in folders.items()}}
        return subprocess.run(["sh", flags, script, name, *args], env=env, capture_output=True, text=True,
                              timeout=120)

    return run_script


def test_the_compose_service_and_make_backup_restore_each_others_backups(compose_script, databases, tmp_path):
    original = connection.settings_dict["NAME"]
    media = tmp_path / "media"
    (media / "exports").mkdir(parents=True)
    (media / "exports" / "客户.csv").write_bytes("王芳,138 1234 5678\n".encode())
    before = counts(backup.Database(url_of(original)))

    # compose's backup → make restore
    done = compose_script("backup", database=original, BACKUP_ROOT=tmp_path / "compose", MEDIA_DIR=media)
    assert done.returncode == 0, done.stderr
    [made] = backup.backups_in(tmp_path / "compose")
    assert json.loads((made / "manifest.json").read_text())["media"]["files"] == 1
    first, first_media = databases(), tmp_path / "first-media"
    assert run("restore", str(made), database=first, media=first_media, backups=tmp_path) == 0
    assert counts(backup.Database(url_of(first))) == before
    assert (first_media / "exports" / "客户.csv").read_bytes() == (media / "exports" / "客户.csv").read_bytes()

    # make backup → compose's restore: into a new database, refused over it, then replacing it
    assert run("backup", database=original, media=media, backups=tmp_path / "make") == 0
    [ours] = backup.backups_in(tmp_path / "make")
    second, second_media = databases(), tmp_path / "second-media"
    second_media.mkdir()
    folders = {"BACKUP_ROOT": tmp_path / "make", "MEDIA_DIR": second_media}
    done = compose_script("restore", "latest", database=second, **folders)
    assert done.returncode == 0, done.stderr
    assert f"created the database {second}" in done.stdout
    assert counts(backup.Database(url_of(second))) == before
    assert (second_media / "exports" / "客户.csv").read_bytes() == (media / "exports" / "客户.csv").read_bytes()
    refused = compose_script("restore", ours.name, database=second, **folders)
    assert refused.returncode == 1 and f"the database {second} holds" in refused.stderr
    assert "--replace" in refused.stderr
    done = compose_script("restore", ours.name, "--replace", database=second, **folders)
    assert done.returncode == 0, done.stderr
    assert f"dropped the database {second}" in done.stdout and "emptied" in done.stdout
    assert counts(backup.Database(url_of(second))) == before


@pytest.fixture
def cluster_dir():
    """A folder for a private cluster that its unprivileged server user can reach (pytest's tmp_path is private
    to root, and shared with every pytest session on the machine)."""
    with tempfile.TemporaryDirectory(prefix="crm-pitr-") as folder:
        yield Path(folder)


def test_point_in_time_recovery_from_the_wal_archive_as_the_compose_file_sets_it_up(compose_script, cluster_dir):
    """On a private cluster: the compose file's archive_command, the backup service's base backup, then the
    recovery steps of docker-compose.yml to a time between two commits: the first is there, the second not."""
    from crm.devstack import Postgres, free_port
    from tests.waiting import wait_for

    postgres = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["postgres"]
    [archive_command] = [part.split("=", 1)[1] for part in postgres["command"] if part.startswith("archive_command=")]
    archive = cluster_dir / "wal-archive"
    archive_command = archive_command.replace("/wal-archive", str(archive))
    pg = Postgres(cluster_dir / "pg", free_port(), durable=True, sized=False)
    pg.start()
    try:
        pg.ensure_database()
        db = backup.Database(pg.url)
        db.query("ALTER SYSTEM SET archive_mode = on")
        db.query("ALTER SYSTEM SET archive_command = :'command'", command=archive_command)
        pg.stop()
        pg.start()
        db.query("CREATE TABLE visit (note text)")
        db.query("INSERT INTO visit VALUES ('before the base backup')")
        done = compose_script("basebackup", database="crm", port=pg.port, WAL_ARCHIVE=archive)
        assert done.returncode == 0, done.stderr
        [base] = (archive / "base").iterdir()
        db.query("INSERT INTO visit VALUES ('kept')")
        target = db.query("SELECT clock_timestamp()")
        db.query("INSERT INTO visit VALUES ('after the target')")
        last = db.query("SELECT pg_walfile_name(pg_switch_wal())")
        assert wait_for(lambda: db.query("SELECT last_archived_wal FROM pg_stat_archiver") >= last), \
            db.query("SELECT * FROM pg_stat_archiver")
        pg.stop()

        # docker-compose.yml's steps: the base backup in place of the data, the archive to replay, a target, go
        data = cluster_dir / "pg"
        shutil.rmtree(data)
        data.mkdir()
        subprocess.run(["tar", "-xzf", base / "base.tar.gz", "-C", data], check=True)
        subprocess.run(["tar", "-xzf", base / "pg_wal.tar.gz", "-C", data / "pg_wal"], check=True)
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"restore_command = 'cp {archive}/wal/%f %p'\n"
                       f"recovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n")
        (data / "recovery.signal").touch()
        if pg.runas:  # as root, the cluster runs as an unprivileged user, as the container's does
            subprocess.run(["chown", "-R", f"{pg.runas}:", data], check=True)
        pg.start()
        assert wait_for(lambda: db.query("SELECT pg_is_in_recovery()") == "f")
        assert db.query("SELECT string_agg(note, ', ' ORDER BY note) FROM visit") == "before the base backup, kept"

        # a new base backup with --keep 1: the old one goes, and the WAL only it needed
        first_wal = min(p.name for p in (archive / "wal").iterdir())
        done = compose_script("basebackup", "--keep", "1", database="crm", port=pg.port, WAL_ARCHIVE=archive)
        assert done.returncode == 0, done.stderr
        [newest] = (archive / "base").iterdir()
        assert newest != base and not base.exists()
        assert not (archive / "wal" / first_wal).exists()
    finally:
        pg.stop()
