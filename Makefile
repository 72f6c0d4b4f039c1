VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
UV     := $(VENV)/bin/uv

.PHONY: venv lock demo test lint policy snapshot-update clean

LOCK_PYTHON := 3.11

# The virtualenv holds exactly what the lock pins. It is made anew whenever a lock or the
# project's metadata changes, hash-checked throughout:
#  1. pip itself, to the lock's version (the pip that `python3 -m venv` brings cannot check the
#     hashes of build dependencies), from its entry in the lock;
#  2. the lock, with the lock as --build-constraint too, so that the one source distribution
#     (zipfile-deflate64) is built with locked, hash-checked build tools;
#  3. this project, editable and without dependencies (the `lake` command), built with the
#     locked setuptools now in the venv (its notice about editable installs silenced).
$(STAMP): requirements.txt images/ingest/requirements.txt pyproject.toml
	python3 -m venv --clear $(VENV)
	sed -n '/^pip==/,/# via/p' requirements.txt > $(VENV)/pip-lock.txt
	$(PYTHON) -m pip install --quiet --require-hashes --no-deps -r $(VENV)/pip-lock.txt
	$(PYTHON) -m pip install --quiet --require-hashes --build-constraint requirements.txt \
		-r requirements.txt
	PYTHONWARNINGS=ignore::UserWarning \
		$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

venv: $(STAMP)

# The lock tool comes from the lock, so a first `make lock` builds the venv.
$(UV):
	$(MAKE) venv

# Resolve the top-level pins (requirements.in, images/ingest/requirements.in) into the locks,
# for every platform and every Python from $(LOCK_PYTHON) on (uv's universal resolution), with
# sha256 hashes of every file PyPI has for each version. The image's lock is constrained by the
# root one, so both name the same version of every package they share.
lock: | $(UV)
	$(UV) pip compile --quiet --universal --python-version $(LOCK_PYTHON) \
		--generate-hashes --custom-compile-command 'make lock' \
		requirements.in -o requirements.txt
	$(UV) pip compile --quiet --universal --python-version $(LOCK_PYTHON) \
		--generate-hashes --custom-compile-command 'make lock' \
		--constraint requirements.txt \
		images/ingest/requirements.in -o images/ingest/requirements.txt

# The whole lake on this machine, on synthetic ENEM data: ingest, process, crawl, gold, report.
demo: $(STAMP)
	$(VENV)/bin/lake demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint images/ingest/Dockerfile
	$(VENV)/bin/actionlint

# The guardrails (policies/) against both stacks, as `pulumi preview --policy-pack` would run
# them: one line per violation, exit status 1 on a mandatory one.
policy: $(STAMP)
	$(PYTHON) -m policies.check

test: lint policy
	$(VENV)/bin/pytest

# Accept an intended infrastructure change: rewrite tests/__snapshots__ (resources and URNs)
# and review the diff.
snapshot-update: $(STAMP)
	$(VENV)/bin/pytest tests/test_snapshot.py tests/test_urns.py --snapshot-update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
