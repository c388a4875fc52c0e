"""Evaluation of hip-assistant: ``python -m evals`` (see evals/run.py)."""
