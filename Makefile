# hedgewatch: `make demo` and `make test` do all the set-up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench lint typecheck wheel lock clean run console

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)  ## run the main job on the simulated market with the console as chat
	$(PY) bot.py demo

test: $(STAMP)  ## the whole test suite (real-data tests skip when ../shared/data is absent)
	$(PY) -m pytest

fuzz: $(STAMP)  ## the hostile-input tests with ten times the examples (new ones every run)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -m fuzz

bench: $(STAMP)  ## speed figures, each next to a baseline from the same run
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)  ## mypy, strict; the not-yet-strict list in pyproject.toml may only shrink
	$(VENV)/bin/mypy
	$(PY) scripts/mypy_ratchet.py

wheel: $(STAMP)  ## build the wheel alone (no dependencies) into a temporary folder, then drop it
	out=$$(mktemp -d) && $(PY) -m pip wheel --disable-pip-version-check --no-deps -q -w "$$out" . \
		&& ls "$$out" && rm -rf "$$out"

run: $(STAMP)
	$(PY) bot.py run

console: $(STAMP)
	$(PY) bot.py console

lock:  ## re-make the pinned locks from requirements.in in a clean venv
	rm -rf /tmp/hedgewatch-lock && $(PYTHON) -m venv /tmp/hedgewatch-lock
	/tmp/hedgewatch-lock/bin/pip install -q -r requirements.in
	(echo "# Pinned runtime lock (pip freeze of requirements.in in a clean venv). Regenerate: make lock"; \
	 /tmp/hedgewatch-lock/bin/pip freeze) > requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build *.egg-info
