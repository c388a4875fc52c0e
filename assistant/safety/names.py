"""The closed set of red-flag criteria, as the article's "When to Seek Professional Help" names them."""

from __future__ import annotations

from ..answer import RED_FLAGS, Criterion

URGENCY_ORDER: tuple[Criterion, ...] = ("severe_pain", "infection", "nerve_symptoms", "persistent_pain")
"""Severe pain first: the article calls for immediate attention there."""

__all__ = ["RED_FLAGS", "URGENCY_ORDER", "Criterion"]
