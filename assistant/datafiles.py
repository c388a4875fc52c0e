"""Package data (``assistant/data/``): word lists, tables and examples kept out of the code.

Every reader goes through here, so one place knows where data lives and how a
line-based file is read: blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .errors import HipAssistantError


class DataFileError(HipAssistantError, ValueError):
    """A package data file holds a value the code does not know; the message names the file and the value."""


def text(name: str) -> str:
    """The whole file ``assistant/data/<name>``."""
    return resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8")


def lines(name: str) -> list[str]:
    """Its lines without comments and blank lines (tab-separated tables keep their tabs)."""
    return [line.rstrip("\n") for line in text(name).splitlines() if line.strip() and not line.startswith("#")]


def rows(name: str) -> list[list[str]]:
    """A tab-separated table: one list of stripped fields a line."""
    return [[field.strip() for field in line.split("\t")] for line in lines(name)]


def words(name: str) -> list[str]:
    """Whitespace-separated words (several a line allowed)."""
    return [word for line in lines(name) for word in line.split()]


def jsonl(name: str) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file."""
    return [json.loads(line) for line in lines(name)]
