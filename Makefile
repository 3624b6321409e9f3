# The two commands of the README: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup notebooks

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# One held-out sample photo per class.
DEMO_PHOTOS := $(foreach class,$(sort $(wildcard data/sample/*/)),$(firstword $(sort $(wildcard $(class)*.jpg))))

demo: setup
	$(PY) -m lessons predict --checkpoint checkpoints/waste-mobilenetv2 $(DEMO_PHOTOS)

test: setup
	$(PY) -m pytest

# Re-execute every weekly notebook in fast mode from its percent .py source and write the
# paired .ipynb (with outputs) that GitHub, Colab and nbval read.
notebooks: setup
	for source in weeks/week*.py; do \
	  WORKBOOK_MODE=fast $(VENV)/bin/jupytext --to ipynb --update --set-kernel python3 --execute "$$source" || exit 1; \
	done
