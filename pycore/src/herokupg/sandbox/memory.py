"""The memory engine (being written)."""

from __future__ import annotations

from pathlib import Path


class MemoryEngine:
    name = "memory"

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
