# make test / make demo create .venv when missing and install eolinked with everything it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo install peers bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/eolinked demo -o demo-out

# peer tools for benchmarks live in their own venv (morph-kgc pins older rdflib/pyoxigraph);
# duckdb-extension-spatial 1.5.5 (DuckDB spatial, offline) needs duckdb 1.5.5 exactly
$(VENV)-peers/.installed:
	test -x $(VENV)-peers/bin/python || $(PYTHON) -m venv $(VENV)-peers
	$(VENV)-peers/bin/python -m pip install --quiet "morph-kgc==2.10.0" "sedonadb==0.5.0" "duckdb==1.5.5" \
		"duckdb-extension-spatial==1.5.5"
	touch $@

peers: $(VENV)-peers/.installed

# the store against pyoxigraph on random data and queries (tests/store/differential.py); SEED=N for others
.PHONY: fuzz
fuzz: $(STAMP)
	$(BIN)/python -m tests.store.differential --seed $(or $(SEED),1) --datasets 5 --queries 1000

bench: $(STAMP) peers
	$(BIN)/python benchmarks/transform.py
	$(BIN)/python benchmarks/transform_spark.py
	$(BIN)/python benchmarks/interlink.py
	$(BIN)/python benchmarks/progressive.py
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/geosparql_compliance.py

clean:
	rm -rf $(VENV) $(VENV)-peers demo-out benchmarks/data
