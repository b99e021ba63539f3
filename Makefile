# Everyday commands. `make run` and `make test` set everything up on a fresh clone.
PYTHON ?= python3
#: The app's port: `make run PORT=8600`.
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
BUNDLED := data/uci-news-aggregator.csv.gz
SNAPSHOT := data/.cache/uci-news-aggregator.csv.gz/meta.json

.PHONY: run dev test test-fast lint format docs train bench clean

# The app's own requirements: all `make run` installs.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# The tests' and benchmarks' tools, and the optional Ray extra (requirements-cluster.txt),
# whose commands the tests run too.
$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-cluster.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

run: $(STAMP) $(SNAPSHOT)  ## the app on the bundled UCI dataset
	$(BIN)/streamlit run streamlit_app.py --server.port $(PORT)

# The bundled file loaded and inspected once, kept as Parquet + JSON (pipeline.data.snapshot),
# so the app's first page on a cold server does not parse 422,937 rows.
$(SNAPSHOT): $(BUNDLED) $(STAMP)
	$(BIN)/python -m pipeline inspect > /dev/null

dev: $(STAMP)  ## the app, rerun whenever a source file is saved (watches the checkout)
	$(BIN)/streamlit run streamlit_app.py --server.port $(PORT) --server.fileWatcherType auto \
		--server.runOnSave true

#: pytest-xdist workers (`make test WORKERS=1`: one process). One pytest process keeps one
#: core busy (it mostly waits on a training process, a server or Ray): two workers use both
#: cores of a 2-core machine. The browser tests run after the others, on their own workers
#: (each with its own server and Chromium): they time what a visitor sees (a Stop ends the
#: job within seconds), and a training process yields its CPU to everything else
#: (SCHED_IDLE), so next to the CPU-bound unit and Ray tests they would be flaky. Their
#: workers collect tests/e2e alone: the whole suite's collection imports TensorFlow.
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

test: $(DEV_STAMP)  ## lint + the whole test suite (unit, AppTest, Ray, then the browser tests)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) -m "not e2e"
	$(PYTEST) -m e2e tests/e2e || test $$? -eq 5  # 5: none collected (no Chromium here)

test-fast: $(DEV_STAMP)  ## everything but the browser tests and the Ray ones
	$(PYTEST) -m "not e2e and not ray"

lint: $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

docs: $(DEV_STAMP)  ## the API reference, from the docstrings, into docs/api/ (open docs/api/index.html)
	$(BIN)/python scripts/build_api_docs.py --output docs/api

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

train: $(STAMP)  ## train the default preset on the bundled data from the command line
	$(BIN)/python -m pipeline train

bench: $(DEV_STAMP)  ## data steps, seed vs fast, every family, users' files on 3 seeds, fastText, the bag's tables, lean model files, the app beside the CLI, memory, load, batch scoring, the run report
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/models.py --speed --output speed
	$(BIN)/python benchmarks/models.py --datasets random_balanced random story --models fast accurate --output models_uci
	$(BIN)/python benchmarks/models.py --datasets cap500 cap2000 publishers --models fast accurate seed --output models_small
	$(BIN)/python benchmarks/models.py --tasks --output models_tasks
	$(BIN)/python benchmarks/lean_models.py
	$(BIN)/python benchmarks/encoder_cache.py
	$(BIN)/python benchmarks/fasttext_speed.py
	$(BIN)/python benchmarks/bag_step.py
	$(BIN)/python benchmarks/playground_open.py
	$(BIN)/python benchmarks/app_speed.py
	$(BIN)/python benchmarks/app_memory.py
	$(BIN)/python benchmarks/run_report.py
	$(BIN)/python benchmarks/app_load.py
	$(BIN)/python benchmarks/batch_scoring.py

.PHONY: screenshots
screenshots: $(DEV_STAMP) $(SNAPSHOT)  ## every page of the app at 1280x800 into docs/screenshots/ (scripts/take_screenshots.py; needs /usr/bin/chromium)
	$(BIN)/python scripts/take_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output docs/api
