"""What an index was built from, stored with it so a stale index is noticed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Manifest:
    """What an index was built from. Stored as the chunk collection's metadata."""

    corpus_hash: str
    model: str
    chunking_version: str
    layout: str = "1"
    """How the collections store their rows (``builder.LAYOUT``); "1", before the field, for older indexes."""
    chunks: int = 0
    sentences: int = 0
    complete: bool = False

    def stale_reasons(self, wanted: Manifest) -> list[str]:
        reasons = [
            f"{name} changed"
            for name in ("corpus_hash", "model", "chunking_version", "layout")
            if getattr(self, name) != getattr(wanted, name)
        ]
        if not self.complete:
            reasons.append("the last build did not finish")
        return reasons

    def to_metadata(self) -> dict[str, str | int | bool]:
        return {f"manifest_{k}": v for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Manifest | None:
        metadata = metadata or {}
        values = {f.name: metadata.get(f"manifest_{f.name}") for f in fields(cls)}
        if any(values[k] is None for k in ("corpus_hash", "model", "chunking_version")):
            return None
        return cls(**{k: v for k, v in values.items() if v is not None})
