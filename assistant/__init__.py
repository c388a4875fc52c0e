"""hip-assistant: answers a runner's questions about hip pain from one article, with citations.

Importing the package switches off calls to outside hosts (model hub,
telemetry, analytics) before any of those libraries load, by setting the
variables below in ``os.environ`` where they are unset: a process that set
one itself keeps its value. The assistant does not depend on them to stay
offline: models load from local paths with ``local_files_only``.
``Assistant`` and the answer types are imported lazily so light modules stay
light.
"""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the lazy names below, typed for the checker without importing them at runtime
    from .answer import Answer, Citation
    from .core import Assistant
    from .errors import HipAssistantError
    from .settings import Settings, load_settings

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
for _name, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)

__all__ = ["Answer", "Assistant", "Citation", "HipAssistantError", "Settings", "load_settings"]

_LAZY = {
    "Assistant": "core",
    "Answer": "answer",
    "Citation": "answer",
    "HipAssistantError": "errors",
    "Settings": "settings",
    "load_settings": "settings",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
