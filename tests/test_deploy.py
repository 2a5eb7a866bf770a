"""Deployment files and production settings. No database: the files are parsed, and
`check --deploy` runs in a subprocess with production environment values."""

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker-bulk", "worker-interactive", "beat")
REQUIRED_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?]).*)?\}$")
# Variables that the test runner or a developer may set and that relax production settings.
RELAXING_ENV = ("CRM_TESTING", "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "SECURE_HSTS_SECONDS",
                "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                "DJANGO_ALLOW_ASYNC_UNSAFE")  # set by the browser tests for Playwright, never in production


# --- docker-compose.yml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    assert command, f"no command in {service}"
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", "KEY"]
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def test_compose_has_all_services(compose):
    assert {"web", "worker-bulk", "worker-interactive", "beat", "postgres", "redis"} <= set(compose["services"])
    assert compose["services"]["postgres"]["image"].startswith("postgres:15")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_compose_commands(compose):
    services = compose["services"]
    web = command_of(services["web"])
    assert web[:2] == ["gunicorn", "crm.wsgi:application"], web
    assert "0.0.0.0:8000" in web
    for worker in ("worker-bulk", "worker-interactive"):
        assert command_of(services[worker])[:4] == ["celery", "-A", "crm", "worker"]
    assert command_of(services["beat"])[:4] == ["celery", "-A", "crm", "beat"]
    build = services["web"].get("build")
    assert build, "web is not built from this project"
    assert (build if isinstance(build, str) else build.get("context")) in (".", "./")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_environment(compose, name):
    env = environment_of(compose["services"][name])
    missing = [key for key in REQUIRED_ENV if key not in env]
    assert not missing, f"{name} lacks {missing}"
    assert str(env["DEBUG"]) == "0", f"{name}: DEBUG={env['DEBUG']!r}"
    assert REFERENCE.match(env["SECRET_KEY"]), f"{name}: SECRET_KEY must be a ${{...}} reference"
    assert env["DATABASE_URL"].startswith(("postgres://", "postgresql://"))
    assert env["REDIS_URL"].startswith(("redis://", "rediss://"))


def queues_of(command: list[str]) -> set[str]:
    assert "-Q" in command, f"a worker without -Q takes every queue: {command}"
    return set(command[command.index("-Q") + 1].split(","))


def test_a_worker_for_each_queue_in_compose_and_make_run(compose, settings):
    """The bulk queue has a worker of its own, the interactive one another that also takes Celery's default
    queue; make run (crm/devstack.py) starts the same two."""
    from crm.devstack import WORKERS

    workers = {name: command_of(service) for name, service in compose["services"].items()
               if service.get("command") and command_of(service)[:4] == ["celery", "-A", "crm", "worker"]}
    assert {name: queues_of(command) for name, command in workers.items()} == {
        "worker-bulk": {"bulk"}, "worker-interactive": {"interactive", "celery"}}
    assert {name: set(queues.split(",")) for name, queues in WORKERS.items()} == {
        name: queues_of(command) for name, command in workers.items()}
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == {"bulk", "interactive", "celery"}
    nodes = [command[command.index("-n") + 1] for command in workers.values()]
    assert len(set(nodes)) == len(nodes), "two workers of one host need names of their own"


def test_compose_has_no_literal_secrets(compose):
    for name, service in compose["services"].items():
        for key, value in environment_of(service).items():
            if value is None or not re.search(r"SECRET|PASSWORD|TOKEN", key):
                continue
            assert REFERENCE.match(str(value)), f"{name}: {key} is a literal, not a ${{...}} reference"
        url = environment_of(service).get("DATABASE_URL")
        if url:
            password = re.match(r"^postgres(?:ql)?://[^:@/]+:([^@]*)@", url)
            assert password is None or REFERENCE.match(password.group(1)), f"{name}: password in DATABASE_URL"


def test_compose_apps_go_through_pgbouncer_and_migrations_go_direct(compose):
    """web, workers and beat share PgBouncer's server connections in transaction mode and say so (DB_POOLED turns
    session state off); the migrations, run once, connect to PostgreSQL itself."""
    services = compose["services"]
    pooler = environment_of(services["pgbouncer"])
    assert pooler["POOL_MODE"] == "transaction" and pooler["DB_HOST"] == "postgres"
    assert REFERENCE.match(pooler["DB_PASSWORD"])
    for name in APP_SERVICES:
        env = environment_of(services[name])
        assert "@pgbouncer:" in env["DATABASE_URL"] and str(env["DB_POOLED"]) == "1", name
        assert services[name]["depends_on"]["pgbouncer"]["condition"] == "service_healthy", name
    migrate = environment_of(services["migrate"])
    assert "@postgres:" in migrate["DATABASE_URL"] and str(migrate["DB_POOLED"]) == "0"


def test_compose_apps_run_as_the_rls_role_and_only_the_migrations_and_the_partition_job_as_the_owner(compose):
    """web, workers and beat connect as crm_app (bound by the row-level-security policies, DB_RLS=1); PgBouncer logs
    in as the client's own role (its [databases] line names no user, which would log everyone in as that one);
    migrate runs as the owner and makes crm_app; only the bulk worker, whose queue has the partition job, knows the
    owner's URL, and reaches PostgreSQL directly with it."""
    services = compose["services"]
    for name in APP_SERVICES:
        env = environment_of(services[name])
        assert env["DATABASE_URL"].startswith("postgres://crm_app:") and str(env["DB_RLS"]) == "1", name
        assert ("DATABASE_OWNER_URL" in env) == (name == "worker-bulk"), name
    assert "@postgres:" in environment_of(services["worker-bulk"])["DATABASE_OWNER_URL"]
    migrate = services["migrate"]
    assert "rls_role --password-env CRM_APP_PASSWORD" in " ".join(command_of(migrate))
    assert str(environment_of(migrate)["DB_RLS"]) == "0"
    pooler = services["pgbouncer"]
    assert environment_of(pooler)["DB_USER"] == "crm_app"
    [config] = pooler["configs"]
    assert config["target"] == "/etc/pgbouncer/pgbouncer.ini"
    ini = compose["configs"][config["source"]]["content"]
    databases = ini.split("[databases]", 1)[1].split("[pgbouncer]", 1)[0]
    assert "host=postgres" in databases and "user=" not in databases
    assert "pool_mode = transaction" in ini and "auth_type = scram-sha-256" in ini


def test_compose_beat_runs_once(compose):
    beat = compose["services"]["beat"]
    assert int((beat.get("deploy") or {}).get("replicas", 1)) <= 1
    assert int(beat.get("scale", 1)) <= 1


def test_compose_start_order_and_health(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "/healthz" in web_check and "urllib" in web_check
    if "migrate" in services:
        assert "manage.py migrate" in " ".join(command_of(services["migrate"]))
        for name in APP_SERVICES:
            depends = services[name]["depends_on"]
            assert depends["migrate"]["condition"] == "service_completed_successfully", name


# --- production settings ------------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings():
    env = {key: value for key, value in os.environ.items() if key not in RELAXING_ENV}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="crm.example.com")
    assert env.get("DATABASE_URL") and env.get("REDIS_URL"), "run through `make test`"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, f"check --deploy failed:\n{output}"
    assert "no issues" in output, output



def test_collectstatic_passes_with_the_production_storage(tmp_path):
    """The image's build step: with DEBUG=0 the manifest storage rewrites every CSS url() and source map reference,
    and a vendored file pointing at a file that is not there fails the build (Swagger UI's CSS did)."""
    env = {key: value for key, value in os.environ.items() if key not in RELAXING_ENV}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="crm.example.com",
               STATIC_ROOT=str(tmp_path / "static"))
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()

# --- Dockerfile ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile():
    """The instructions of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def instructions(dockerfile, keyword):
    return [line.split(None, 1)[1] for line in dockerfile if line.split(None, 1)[0].upper() == keyword]


def test_dockerfile_base_and_dependencies(dockerfile):
    assert instructions(dockerfile, "FROM")[-1].startswith("python:3.11-slim")
    runs = " ".join(instructions(dockerfile, "RUN"))
    assert "tomllib" in runs and "pip install" in runs


def test_dockerfile_installs_what_the_pdf_reports_need(dockerfile):
    """WeasyPrint loads pango at import, and a report in Chinese needs a CJK font (else empty boxes)."""
    runs = " ".join(instructions(dockerfile, "RUN"))
    assert "libpango-1.0-0" in runs and "fonts-wqy-microhei" in runs


def test_dockerfile_runs_collectstatic(dockerfile):
    collect = [run for run in instructions(dockerfile, "RUN") if "collectstatic" in run]
    assert collect, "no RUN ... collectstatic"
    assert "--no-input" in collect[0] or "--noinput" in collect[0]
    for var in ("SECRET_KEY=", "DATABASE_URL=postgres", "REDIS_URL=redis", "DEBUG=0"):
        assert var in collect[0], f"collectstatic lacks a dummy {var}"


def test_dockerfile_does_not_run_as_root(dockerfile):
    users = instructions(dockerfile, "USER")
    assert users, "no USER line: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"runs as {users[-1]}"


def test_dockerfile_serves_gunicorn(dockerfile):
    assert "8000" in instructions(dockerfile, "EXPOSE")[-1].split()
    cmd = instructions(dockerfile, "CMD")[-1]
    assert "gunicorn" in cmd and "crm.wsgi:application" in cmd and "0.0.0.0:8000" in cmd
