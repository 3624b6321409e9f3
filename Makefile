# The two commands of the README: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup notebooks

setup: $(VENV)/.installed

# The whole course (notebooks, tests): requirements-course.txt, which includes the site's requirements.txt.
$(VENV)/.installed: requirements.txt requirements-course.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-course.txt
	touch $@

# The teaching site on the reference checkpoint, at http://127.0.0.1:7860 (Ctrl-C stops it).
demo: setup
	$(PY) app.py

# Two pytest-xdist workers: many tests wait on a subprocess, a server or a browser, so two overlap well even
# on two cores; conftest.py keeps each file, and the notebooks that share a checkpoint, on one worker.
test: setup
	$(PY) -m pytest -n 2

# Refresh each week's Colab badge and setup cell (lessons/colab.py), re-execute every weekly notebook and write
# the paired .ipynb (with outputs) that GitHub, Colab and nbval read, then each week's computed time
# (lessons/study_time.py) and the student edition in student/. Full mode, what a student runs (week 4 trains on
# WORKBOOK_DATA, else data/waste-full, else the course machines' ../shared/data/waste); `WORKBOOK_MODE=fast make
# notebooks` is a quick rehearsal, not a run to commit. Two steps per week, because `jupytext --update --execute`
# keeps the *old* outputs of unchanged cells: jupytext copies the inputs from the .py (keeping cell ids), then
# nbconvert runs every cell afresh. The .ipynb then takes the .py's timestamp, so that neither looks stale to jupytext.
notebooks: setup
	$(PY) -m lessons.colab
	for source in weeks/week*.py; do \
	  $(VENV)/bin/jupytext --to ipynb --update --set-kernel python3 "$$source" && \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=-1 "$${source%.py}.ipynb" || exit 1; \
	done
	$(PY) -m lessons.study_time
	for source in weeks/week*.py; do \
	  $(VENV)/bin/jupytext --to ipynb --update "$$source" && touch -r "$$source" "$${source%.py}.ipynb" || exit 1; \
	done
	$(PY) -m lessons student-edition
