# Two commands matter: `make run` (the whole service, locally) and `make test`.
.PHONY: run test lint format venv migrate

run:
	scripts/run.sh

test:
	scripts/test.sh

venv:
	scripts/venv.sh

lint: venv
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

migrate: venv
	.venv/bin/python manage.py migrate --noinput
