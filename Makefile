VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint policy snapshot-update clean

# The virtualenv is rebuilt whenever the pinned requirements or the project's packages change.
$(STAMP): requirements.txt images/ingest/requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

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
