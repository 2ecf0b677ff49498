# The two commands of the README: `make demo` and `make test`. Both create .venv when
# it is missing and install into it; nothing is installed outside it but graphviz's
# `dot`, through apt-get, and only when run as root.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
ORACLE ?= 0

.PHONY: demo test lint bench venv dot clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)

demo: $(PY)
	$(PIP) install -q -e ".[examples]"
	MPLBACKEND=Agg $(PY) examples/demo.py

# graphviz's `dot` renders the pictures; without root the picture tests skip, and say so.
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	else echo "note: graphviz's dot is missing and this is not root: the picture tests will skip"; fi

test: $(PY) dot
	$(PIP) install -q -e ".[dev,examples]"
	@if [ "$(ORACLE)" = "1" ]; then \
		$(PIP) install -q torch==2.13.0 && $(PIP) install -q -e ".[oracle]"; fi
	$(PY) -m ruff check tinygrad_edu tests examples benchmarks
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q -rs

lint: $(PY)
	$(PY) -m ruff check tinygrad_edu tests examples benchmarks

bench: $(PY)
	$(PIP) install -q -e ".[examples]"
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
