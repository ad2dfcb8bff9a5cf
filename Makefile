# Two commands matter: `make run` (the whole service, locally) and `make test`.
.PHONY: run test lint format venv migrate graph

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

# The pathway diagram in docs/ (needs Debian's graphviz for `dot`).
graph: venv
	@command -v dot >/dev/null || { echo "graph: install Debian's graphviz package (apt-get install graphviz)"; exit 1; }
	.venv/bin/python manage.py graph_transitions -l dot -e resolve,close -o docs/pathway.png episodes.Episode
	.venv/bin/python manage.py graph_transitions -l dot -o docs/pathway-full.png episodes.Episode
	rm -f docs/pathway docs/pathway-full
