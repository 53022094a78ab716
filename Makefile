.PHONY: run test lint format

run:  ## run datapass on the embedded default (SQLite, demo data)
	scripts/run.sh

test:  ## install what the tests need, then run them all
	scripts/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
