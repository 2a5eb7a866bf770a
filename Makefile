# Two commands a new user needs; both bootstrap everything through crm/devstack.py.
PYTHON ?= python3

.PHONY: run test bench manage backup restore lint messages

run:  ## web + a Celery worker per queue + beat on http://127.0.0.1:8000, private PostgreSQL/Redis under var/
	$(PYTHON) crm/devstack.py run

test:  ## the whole suite on throw-away PostgreSQL/Redis, browser tests included (ARGS=... for pytest)
	$(PYTHON) crm/devstack.py test $(ARGS)

bench:  ## benchmarks against the bare-Django floor measured in the same run
	$(PYTHON) crm/devstack.py bench $(ARGS)

manage:  ## manage.py against the var/ servers, e.g. make manage ARGS="createsuperuser"
	$(PYTHON) crm/devstack.py manage $(ARGS)

backup:  ## database (pg_dump) and media of the var/ servers (or DATABASE_URL) into var/backups/crm-<time>/; ARGS="--keep 14"
	$(PYTHON) crm/devstack.py backup $(ARGS)

restore:  ## a backup into an empty database and media folder: make restore ARGS="var/backups/crm-<time> [--replace]"
	$(PYTHON) crm/devstack.py restore $(ARGS)

lint:  ## ruff, and the import contracts of pyproject.toml ([tool.importlinter])
	.venv/bin/ruff check .
	.venv/bin/lint-imports

messages:  ## refresh and compile locale/zh_Hans after adding strings
	.venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var
	.venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv
