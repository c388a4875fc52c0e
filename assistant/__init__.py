"""hip-assistant: answers a runner's questions about hip pain from one article, with citations.

Importing the package switches off every call to outside hosts (model hub,
telemetry, analytics) before any of those libraries load. ``Assistant`` and
the answer types are imported lazily so light modules stay light.
"""

import os

# Forced, not defaulted: the assistant must never reach a model hub or send telemetry.
_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(_OFFLINE_ENV)

__all__ = ["Answer", "Assistant", "Citation", "HipAssistantError", "Settings", "load_settings"]

_LAZY = {
    "Assistant": "core",
    "Answer": "answer",
    "Citation": "answer",
    "HipAssistantError": "errors",
    "Settings": "settings",
    "load_settings": "settings",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
