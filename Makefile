# Two commands for a fresh machine with Python 3.11:
#   make run    set up .venv and start the chat page on http://127.0.0.1:7860
#   make test   set up .venv (and Chromium for the browser test) and run the tests
# For working on the code:
#   make test-fast   the unit tier (tests/unit: no model, no index, no browser), in seconds
#   make lint        ruff, and mypy strict on assistant/
#   make test-unit-python UNIT_PYTHON=python3.13   the unit tier on another Python, without torch
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# `make test EXTRAS=test,llm` also installs the generative answerers (llama-cpp-python builds ~5 min).
EXTRAS ?= test
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install run serve chat index test test-fast test-unit-python browser eval lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama.cpp is built for a portable x86-64 CPU (AVX2), not for the build machine: a native build
# on a CPU that reports AMX/AVX-512 died with "Illegal instruction" in the generative tests here.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

# constraints.txt pins every package, torch to the 2.13.0 CPU build.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

run: serve

serve: install
	$(BIN)/hip-assistant serve

chat: install
	$(BIN)/hip-assistant chat

index: install
	$(BIN)/hip-assistant index

# The browser test drives Debian's Chromium; install it when it is missing and we may.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  elif command -v sudo >/dev/null; then \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "Chromium missing and no root: browser tests will be skipped"; fi; \
	fi

test: install browser
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -q tests/unit

# The unit tier on another Python (3.12, 3.13): the project's dependencies without the torch stack,
# whose only wheels for those versions on PyPI are multi-GB CUDA builds (.ci/unit_requirements.py).
UNIT_PYTHON ?= python3.13
UNIT_VENV := .venv-$(notdir $(UNIT_PYTHON))
test-unit-python:
	$(UNIT_PYTHON) -m venv $(UNIT_VENV)
	$(UNIT_VENV)/bin/pip install --quiet --upgrade pip
	$(UNIT_VENV)/bin/pip install --quiet -c constraints.txt $$($(UNIT_VENV)/bin/python .ci/unit_requirements.py)
	$(UNIT_VENV)/bin/pip install --quiet --no-deps -e .
	$(UNIT_VENV)/bin/pytest -q -p no:cacheprovider tests/unit

eval: install
	$(BIN)/hip-assistant eval

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .venv-python3.* .mypy_cache
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
