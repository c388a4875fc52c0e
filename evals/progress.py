"""One progress bar for a whole evaluation run, labelled with the current stage."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """One bar for the whole run, labelled with the current stage."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = tqdm(total=total, desc="eval", unit="q", disable=not enabled, file=sys.stderr)

    def stage(self, name: str) -> None:
        self.bar.set_description(name)

    def step(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
