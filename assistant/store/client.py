"""Connecting to Chroma: a server when one is configured, else the local folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Include
from chromadb.config import Settings as ChromaSettings

from ..errors import HipAssistantError
from ..settings import Settings


class IndexUnavailableError(HipAssistantError, RuntimeError):
    """The index cannot be reached or opened; the message says where and what to do."""


def make_client(settings: Settings) -> ClientAPI:
    """An HTTP client when a Chroma server is configured, else an embedded persistent one."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            raise IndexUnavailableError(
                f"Cannot reach the Chroma server at {where} ({type(exc).__name__}: {exc}). "
                f"Start one with `chroma run --host {settings.chroma_host} --port {settings.chroma_port} "
                "--path <folder>`, "
                "or unset HIP_CHROMA_HOST to use the local index."
            ) from None
        return client
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def forget_local_client(path: Path) -> None:
    """Drop Chroma's per-process cache of a local index folder, so the next client reads the disk again.

    chromadb's public ``Client.close()`` is not enough here: it only releases one reference (the
    system stays cached while another client holds the path) and fails on a client whose database
    was damaged ("no attribute 'bindings'"), which is when this runs. Tested in test_faults.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)


READ_PAGE = 5000
"""Rows per ``get`` when a whole collection is read: one ``get`` of every row fails past SQLite's limit of
variables in one statement ("too many SQL variables", found at 100,000 chunks)."""


def read_all(collection: Collection, include: Include) -> dict[str, Any]:
    """Every row of a collection (its ids and the `include` fields), read a page at a time."""
    out: dict[str, Any] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=READ_PAGE, offset=offset)
        ids = got["ids"]
        out["ids"].extend(ids)
        for field in include:
            values = got.get(field)  # Chroma types every field as optional
            if values is None:
                raise IndexUnavailableError(
                    "The index returned no values for a field that was asked for; "
                    "rebuild it with `hip-assistant index --rebuild`."
                )
            out[field].extend(values)
        if len(ids) < READ_PAGE:
            return out
        offset += READ_PAGE
