# The two commands of the README: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup

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
