# KubeVPS developer commands. Every target installs what it needs first (`make setup`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
STAMP := $(VENV)/.kubevps-installed
PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL

.PHONY: setup plan test lint bench preview up

setup: $(STAMP)

$(STAMP): pyproject.toml scheduler/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./scheduler
	touch $@

plan: setup
	$(BIN)/python -m infra.plan --stack $(STACK)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/shellcheck --severity=style infra/kubeadm/scripts/*.sh infra/addons/scripts/*.sh
	$(BIN)/hadolint scheduler/Dockerfile

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m benchmarks

preview: setup
	@test -n "$$PULUMI_CONFIG_PASSPHRASE$$PULUMI_CONFIG_PASSPHRASE_FILE" || { echo "set PULUMI_CONFIG_PASSPHRASE (or _FILE) first" >&2; exit 2; }
	mkdir -p .pulumi-state
	pulumi preview --stack $(STACK)

up: setup
	@test -n "$$PULUMI_CONFIG_PASSPHRASE$$PULUMI_CONFIG_PASSPHRASE_FILE" || { echo "set PULUMI_CONFIG_PASSPHRASE (or _FILE) first" >&2; exit 2; }
	mkdir -p .pulumi-state
	pulumi up --stack $(STACK)
