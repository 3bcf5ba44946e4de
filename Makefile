# The two commands of the README. Each sets itself up first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-fast setup setup-test index

run: setup            ## set up, index seeds/ and start the app on http://127.0.0.1:7860
	$(VENV)/bin/rag index
	$(PY) app.py

test: setup-test      ## set up and run the whole suite, slow tiers included (what CI runs)
	$(PY) -m pytest -q tests

test-fast: setup-test ## the quick tier only
	$(PY) -m pytest -q -m "not slow" tests

setup:
	bash scripts/setup.sh app

setup-test:
	bash scripts/setup.sh test

index: setup
	$(VENV)/bin/rag index
