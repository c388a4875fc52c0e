# Two commands for a fresh machine with Python 3.11:
#   make run    set up .venv and start the assistant
#   make test   set up .venv and run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve chat index test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt pins every package, torch to the 2.13.0 CPU build.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: serve

serve: install
	$(BIN)/hip-assistant serve

chat: install
	$(BIN)/hip-assistant chat

index: install
	$(BIN)/hip-assistant index

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) index/chroma.sqlite3 index/*-*-*-*-*
