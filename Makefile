# The door to the project: `make run` and `make test` do everything; `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
INSTALLED := $(VENV)/.installed
SPACY_MODEL := build/spacy-en/meta.json
# Debian packages the tests use: a real browser, database, lock store and proxy.
SYSTEM_PACKAGES := chromium postgresql redis-server nginx openssl

.DEFAULT_GOAL := help
.PHONY: help run status setup train test test-data test-unit test-nlu test-stories test-e2e lint lock system-deps

help: ## List the commands
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: setup ## Set up what is missing, train if stale, start every process and restart any that dies (Ctrl-C stops all)
	$(PY) -m practice.launcher run

status: ## What `make run` is running: each process's state, pid and restarts (var/run-status.json)
	@$(PY) -m practice.launcher status || true

setup: $(INSTALLED) $(SPACY_MODEL) ## Create .venv (Python 3.10) and install the locked dependencies

$(INSTALLED): requirements.lock requirements.in pyproject.toml scripts/venv.sh
	scripts/venv.sh
	touch $@

$(SPACY_MODEL): scripts/build_spacy_model.py | $(INSTALLED)
	$(PY) scripts/build_spacy_model.py build/spacy-en

train: setup ## Train if the model is missing or its data/config changed
	$(PY) -m practice.launcher train

system-deps: ## Install the Debian packages the tests need (chromium, postgresql, redis, nginx)
	scripts/apt-install.sh $(SYSTEM_PACKAGES)

lock: $(INSTALLED) ## Re-pin requirements.lock from requirements.in
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip freeze --exclude-editable | grep -v '^leaky-gut' > requirements.lock

# Every level runs (-k) so one failure does not hide another; any failure fails `make test`.
TEST_LEVELS := lint test-data test-unit test-nlu test-stories test-safety test-understanding \
	test-e2e test-browser test-console test-reliability test-scaleout test-retrain

test: setup system-deps train browser-deps ## Run every test level (about 20 minutes)
	$(MAKE) -k --no-print-directory $(TEST_LEVELS)

test-data: setup ## rasa data validate, through the runtime production serves (practice.rasa_runtime)
	$(PY) -m practice.rasa_runtime data validate --fail-on-warnings

test-unit: setup ## pytest: actions, guards, tools
	$(PYTEST) tests/unit -q

test-nlu: train ## Held-out NLU set: every safety example right, nonsense falls back, 95% accuracy
	$(PYTEST) tests/nlu -q

test-stories: train ## Conversation tests through the served runtime (NLU on each message too)
	$(PY) -m practice.rasa_runtime test core --model models/current.tar.gz --stories tests/test_stories.yml \
	  --e2e --fail-on-prediction-errors --out var/results/core

test-safety: train ## Blind safety development set: recall per kind and language, false alarms, no link
	$(PYTEST) tests/safety -q -s -p no:cacheprovider 2>&1 | grep -v "debug " ; exit $${PIPESTATUS[0]}

test-understanding: train ## Blind understanding development set: one line per category
	$(PYTEST) tests/understanding -q -s -p no:cacheprovider 2>&1 | grep -v "debug " ; exit $${PIPESTATUS[0]}

test-sealed: train ## The sealed blind sets (run once per round; docs/SAFETY.md, docs/PIPELINES.md)
	BLIND_HALF=sealed $(PYTEST) tests/safety tests/understanding -q -s -p no:cacheprovider 2>&1 | grep -v "debug " ; exit $${PIPESTATUS[0]}

test-e2e: train ## Real servers, REST channel, custom COACHING_APPLICATION_URL
	$(PYTEST) tests/e2e -q

lint: setup ## ruff check, ruff format --check (run `ruff format` to apply), mypy on practice/ and actions/
	$(PY) -m ruff check practice actions tests bench scripts
	$(PY) -m ruff format --check practice actions tests bench scripts
	$(PY) -m mypy

# ---- language identification (docs/LANGUAGES.md) ----------------------------------------
.PHONY: bench-languages
LANG_CANDIDATES := build/lang-candidates/.installed

$(LANG_CANDIDATES): bench/languages-candidates.txt | $(INSTALLED)
	$(PY) -m pip install --quiet --no-deps --upgrade --target build/lang-candidates -r bench/languages-candidates.txt
	touch $@

bench-languages: setup $(LANG_CANDIDATES) ## Language identifiers on bench/data/languages.jsonl (~2 min) -> docs/LANGUAGES.md
	TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore $(PY) -m bench.compare_languages --write-docs

# ---- the website widget (docs/WIDGET.md) ------------------------------------------------
.PHONY: browser-deps test-browser widget-size
BROWSER_DEPS := tests/browser/node_modules/axe-core/axe.min.js

browser-deps: $(BROWSER_DEPS) ## axe-core for the accessibility check (npm ci, pinned by the lock file)

$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

test-browser: setup system-deps train browser-deps ## The widget in headless Chromium (Debian's): conversation, a11y, security
	$(PYTEST) tests/browser -q

widget-size: ## The widget's size on the wire (gzip -9)
	@for f in widget/widget.js widget/widget.css; do printf '%-20s %6s bytes, %5s gzipped\n' $$f $$(wc -c < $$f) $$(gzip -9c $$f | wc -c); done

# ---- the coaches' console (docs/CONSOLE.md) ---------------------------------------------
.PHONY: postgres test-console bench-console

postgres: ## Start the throwaway PostgreSQL on 127.0.0.1:54329 and print its URL (scripts/postgres.sh)
	scripts/apt-install.sh postgresql
	scripts/postgres.sh start

test-console: setup ## Console: queries on SQLite and PostgreSQL, pages in headless Chromium
	scripts/apt-install.sh postgresql chromium
	scripts/postgres.sh start >/dev/null
	$(PYTEST) tests/console -q

bench-console: setup ## 100,000 conversations on SQLite and PostgreSQL, every page timed -> docs/CONSOLE_BENCHMARKS.md
	scripts/apt-install.sh postgresql
	scripts/postgres.sh start >/dev/null
	$(PY) -m bench.console_bench

# ---- retraining from real conversations (docs/RETRAINING.md) -------------------------------
.PHONY: retrain rollback retrain-status test-retrain
# Quiet: staff read the steps and the verdict, not library deprecation warnings.
RETRAIN := PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false $(PY) -m practice.retrain

retrain: setup ## Staff: approved inbox decisions -> candidate -> gate -> promote (report in var/retrain/)
	$(RETRAIN) retrain

rollback: setup ## Staff: put back the model and data the last promotion replaced
	$(RETRAIN) rollback

retrain-status: setup ## The served model, what a rollback would restore, decisions waiting
	$(RETRAIN) status

test-retrain: setup ## Retraining: YAML round trip, inbox, hot reload, the gate both ways, browser end to end
	scripts/apt-install.sh postgresql chromium
	scripts/postgres.sh start >/dev/null
	$(PYTEST) tests/retrain -q

# ---- performance against stock Rasa (docs/BENCHMARKS.md) -----------------------------------
.PHONY: bench soak bench-nlu-cost bench-safety-model
# Quiet for the same reason; the benchmark's own progress goes to stderr.
BENCH_ENV := PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false
BENCH := $(BENCH_ENV) $(PY) -m bench

bench: setup ## Stock `rasa init`, a TF-IDF floor and ours in one run (~6 min) -> docs/BENCHMARKS.md
	$(BENCH)

bench-safety-model: train ## Safety model candidates, cross-validated on the blind development set -> docs/results/safety_model.md
	$(PY) -m bench.safety_model

bench-nlu-cost: train ## What each NLU graph node costs per message, with and without the question and sentence copies
	$(BENCH_ENV) $(PY) -m bench.nlu_cost

soak: train ## 10 minutes at concurrency 8: no errors, memory (PSS) growth <= 5%, p95 drift <= 10%
	$(BENCH) soak

# --- Reliability, security, scale-out (docs/RELIABILITY.md) ------------------------------
.PHONY: test-reliability test-scaleout topology-up topology-down deploy-config db-upgrade retention audit

test-reliability: setup system-deps train ## Faults, DB outage, concurrency, exposure, bad input + fuzz, rate limits, privacy, retention
	$(PYTEST) tests/reliability -q --junitxml=var/results/reliability.xml
	$(PY) scripts/reliability_report.py var/results/reliability.xml

test-scaleout: setup system-deps train ## nginx+TLS, 2 Rasa servers, Redis, PostgreSQL on loopback: edge, concurrency, faults
	$(PYTEST) tests/scaleout -q --junitxml=var/results/scaleout.xml
	$(PY) scripts/reliability_report.py var/results/scaleout.xml

topology-up: setup system-deps train ## Start the production topology on loopback (https://localhost:8443)
	$(PY) -m practice.topology up

topology-down: ## Stop the loopback topology
	$(PY) -m practice.topology down

deploy-config: ## Render deploy/nginx.conf from deploy/nginx.conf.template + deploy/edge.yml
	$(PY) -m practice.topology render-deploy

db-upgrade: setup ## Bring DATABASE_URL's console and inbox tables to the newest migration (docs/CONSOLE.md)
	$(PY) -m practice.store.migrations upgrade

retention: setup ## Delete conversations idle > RETENTION_DAYS (90); DAYS=n, SENDER=id, DRY_RUN=1
	$(PY) -m practice.store.retention $(if $(DAYS),--days $(DAYS)) $(if $(SENDER),--sender $(SENDER)) $(if $(DRY_RUN),--dry-run)

audit: ## Vulnerabilities in requirements.lock: live pip-audit, else the offline PyPA snapshot (docs/AUDIT.md)
	PY=$(PY) scripts/audit.sh
