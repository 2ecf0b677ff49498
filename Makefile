# The two commands of the README: `make demo` and `make test`. Both create .venv when
# it is missing and install into it; nothing is installed outside it but graphviz's
# `dot`, through apt-get, and only when run as root. `make notebooks` writes the lessons'
# notebooks (examples/*.ipynb) from their scripts and executes them in full mode.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
ORACLE ?= 0

.PHONY: demo test lint bench venv dot kernel notebooks clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)

demo: $(PY) dot
	$(PIP) install -q -e ".[examples]"
	MPLBACKEND=Agg $(PY) examples/demo.py

# graphviz's `dot` renders the pictures: installed here when run as root; otherwise one
# line says how (the pictures are then written as DOT source, and the picture tests skip).
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing graphviz's dot with apt-get (once; about a minute)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	else echo "note: graphviz's dot is missing: install it (sudo apt-get install graphviz, brew install graphviz or conda install graphviz) to draw the graph pictures"; fi

# The python3 kernel that the notebooks run in: this .venv's python, whatever other
# kernels the user has.
kernel: $(PY)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null

notebooks: $(PY) dot
	$(PIP) install -q -e ".[dev,examples]"
	$(MAKE) kernel
	$(PY) examples/_notebooks.py

test: $(PY) dot
	$(PIP) install -q -e ".[dev,examples]"
	$(MAKE) kernel
	@if [ "$(ORACLE)" = "1" ]; then \
		$(PIP) install -q torch==2.13.0 && $(PIP) install -q -e ".[oracle]"; fi
	$(PY) -m ruff check tinygrad_edu tests examples benchmarks
	$(PY) -m ruff format --check tinygrad_edu tests examples benchmarks
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q -rs

lint: $(PY)
	$(PY) -m ruff check tinygrad_edu tests examples benchmarks
	$(PY) -m ruff format --check tinygrad_edu tests examples benchmarks

bench: $(PY)
	$(PIP) install -q -e ".[examples]"
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
