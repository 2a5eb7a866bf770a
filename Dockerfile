# syntax=docker/dockerfile:1
#
# Production image. gunicorn runs by default; the same image runs the Celery worker and beat
# (see docker-compose.yml). Settings come from the environment at run time (crm/settings.py):
# DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=0, ALLOWED_HOSTS, ...
#
#   docker build -t crm .

# --- runtime ----------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 crm \
 && useradd --system --uid 10001 --gid crm --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin crm

WORKDIR /app

# WeasyPrint renders the report e-mails' PDF with pango; the Chinese in it needs a CJK font
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

# Dependencies before the code, so a code change does not reinstall them. pyproject.toml is not
# an installable package: install exactly its pinned [project].dependencies (no dev extras).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code stays owned by root: the app user can read it but not change it.
COPY . .

# Settings refuse to load without these, so collectstatic gets syntactically valid dummies that
# exist only for this one command (nothing is contacted). With DEBUG=0 the storage is
# CompressedManifestStaticFilesStorage, whose manifest must be in the image.
RUN DEBUG=0 CRM_TESTING=0 \
    SECRET_KEY=collectstatic-build-time-dummy-not-used-at-run-time \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input \
 && python -m compileall -q /app \
 && mkdir -p /app/var/media \
 && chown -R crm:crm /app/var

USER 10001:10001

EXPOSE 8000

CMD ["gunicorn", "crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
