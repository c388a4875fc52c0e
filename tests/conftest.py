"""Settings for every test tier; the fixtures live in tests/fixtures/ and are loaded as plugins.

``tests/unit`` (``make test-fast``) loads no model; the tests beside this file are the integration
tier: the real model, a real Chroma store, a real browser (``tests/fixtures/models.py``, ``pagekit.py``).
"""

from __future__ import annotations

import os

import assistant  # noqa: F401  (sets the offline environment before any model library loads)

# The suite measures the defaults: a developer's HIP_* variables must not change what it sees.
for _name in [n for n in os.environ if n.startswith("HIP_")]:
    del os.environ[_name]

# One intra-op thread for torch, here and in the CLI subprocesses (they inherit os.environ).
# Same model, same results; but on a busy 2-CPU machine two OpenMP threads spin-waiting for
# each other made every embedding 10-35x slower and the suite several minutes long.
os.environ.setdefault("OMP_NUM_THREADS", "1")

pytest_plugins = ["fixtures.common", "fixtures.models", "fixtures.pagekit"]
