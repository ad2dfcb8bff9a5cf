# Two commands matter: `make run` (the whole service, locally) and `make test`.
.PHONY: run test chaos lint format venv migrate graph pathway screenshots bench bench-full bench-report-full perf-doc fuzz

run:
	scripts/run.sh

test:
	scripts/test.sh

# The fault tests (docs/RELIABILITY.md): a few minutes, PostgreSQL and a private Redis.
chaos:
	scripts/chaos.sh

venv:
	scripts/venv.sh

# The layers (README.md, "Where code goes") are checked here by import-linter's contracts in
# pyproject.toml, and careflow's imports by scripts/careflow_is_pure.py.
lint: venv
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache
	.venv/bin/python scripts/careflow_is_pure.py

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

# The pathway picture (docs/pathway.svg), drawn in Python from careflow's tables.
pathway: venv
	.venv/bin/python manage.py pathway_svg

# The workspace's board, a queue and an episode as PNGs in docs/ (demo data, Debian's chromium).
screenshots: venv
	scripts/ensure_chromium.sh
	.venv/bin/python -m workspace.screenshots

# Schemathesis's CLI with every check and the stateful phase against a live gunicorn: a few
# thousand generated requests over every operation (CI runs it; tests/api/schemathesis.toml).
fuzz: venv
	scripts/ensure_services.sh
	DJANGO_SETTINGS_MODULE=config.settings.test \
	DATABASE_URL=$${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/careflow} \
	.venv/bin/python -m pytest -q -s -m fuzz tests/api/test_schemathesis_live.py

# Benchmarks beside their raw baselines (docs/PERFORMANCE.md): PostgreSQL databases
# careflow_bench and careflow_bench_10k (dropped and recreated; BENCH_DB=<name> renames
# them), Redis database 9. The workspace's HTML pages are measured beside the API's.
# Never part of `make test`. Quick: 100k episodes, a few minutes; full: 1M episodes.
bench: venv
	scripts/ensure_services.sh
	.venv/bin/python -m bench.run --episodes 100000 --due 10000 --memory-due 50000

bench-full: venv
	scripts/ensure_services.sh
	.venv/bin/python -m bench.run --episodes 1000000 --due 50000 --memory-due 100000 --deep-rows 5000

# The adherence report alone at 1M (a team with 100k episodes a year), live and from its
# monthly rollups: bench/results/report-1m.json, then `make perf-doc`.
bench-report-full: venv
	scripts/ensure_services.sh
	.venv/bin/python -m bench.run --report-only --episodes 1000000

# docs/PERFORMANCE.md's figures, rendered from the newest complete run of each size in
# bench/results/*.json (`python -m bench.report --check` says whether the doc is stale).
perf-doc: venv
	.venv/bin/python -m bench.report --write
