# hedgewatch: `make demo` and `make test` do all the set-up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench lint typecheck wheel lock clean run console backtest-reports \
	messages compile-messages

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

DATA ?= ../shared/data
BT := $(PY) bot.py backtest --rolling 7d --horizon 90d --no-progress
OKX22 := --exchange csv --data $(DATA)/okx_swap_15m_2022 --mark $(DATA)/okx_swap_mark_1h \
	--tiers $(DATA)/tiers/okx_position_tiers_swap_BTC_ETH_2026-05.csv
OKX23 := --exchange csv --data $(DATA)/okx_swap_15m_2023_2026 \
	--tiers $(DATA)/tiers/okx_position_tiers_swap_BTC_ETH_2026-05.csv
BN := --exchange csv --data $(DATA)/binance_usdm_15m --funding $(DATA)/funding/binance \
	--tiers $(DATA)/tiers/binance_leverage_tiers_2024-10.json.gz

backtest-reports: $(STAMP)  ## docs/backtest_*.md and their PNGs from ../shared/data (minutes)
	for m in cross isolated; do \
	  $(BT) $(OKX22) --margin $$m --chart docs/backtest_okx_2022_$$m.png \
	    --report docs/backtest_okx_2022_$$m.md \
	    --title "OKX 2022, 9 perps through LUNA, 3AC and FTX: long BTC 10x, $$m margin" && \
	  $(BT) $(OKX23) --margin $$m --chart docs/backtest_okx_2023_2026_$$m.png \
	    --report docs/backtest_okx_2023_2026_$$m.md \
	    --title "OKX 2023-2026, BTC alone: long BTC 10x, $$m margin" && \
	  $(BT) $(BN) --margin $$m --chart docs/backtest_binance_2024_2026_$$m.png \
	    --report docs/backtest_binance_2024_2026_$$m.md \
	    --title "Binance 2024-2026, BTC ETH SOL (XRP DOGE from 2025-08): long BTC 10x, $$m margin" \
	  || exit 1; done

LOCALES := i18n/locales
POT := $(LOCALES)/hedgewatch.pot
SOURCES := bot.py i18n core settings storage plugins runtime backtest chat jobs
KEYWORDS := -k N_ -k L_ -k LN_:1,2 -k ngettext:1,2 -k dgettext:2

messages: $(STAMP)  ## extract the marked strings into the .pot and update every language's .po
	$(VENV)/bin/pybabel -q extract -F babel.cfg $(KEYWORDS) --sort-by-file --no-wrap \
		--project hedgewatch --copyright-holder "hedgewatch" -o $(POT) $(SOURCES)
	$(VENV)/bin/pybabel -q update -i $(POT) -d $(LOCALES) -D hedgewatch --no-wrap \
		--no-fuzzy-matching --ignore-obsolete

compile-messages: $(STAMP)  ## .mo files next to the .po (optional: the bot compiles in memory)
	$(VENV)/bin/pybabel -q compile -d $(LOCALES) -D hedgewatch --statistics

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
