"""This checkout as the tests see it: its root, and the collections dir through which Ansible runs
the collection from the working tree.

On sys.path through the root pytest.ini (``pythonpath = tests/support``); scripts run outside
pytest (benchmarks, the failover soak) put this directory on their path themselves.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def collections_dir(checkout: Path = ROOT) -> Path:
    """The checkout's collections dir (``collections/``, where ansible_collections/herokuops/postgres
    is a symlink back to the checkout), for ANSIBLE_COLLECTIONS_PATH: ansible runs the collection
    from the working tree."""
    base = checkout / "collections"
    if not (base / "ansible_collections" / "herokuops" / "postgres" / "galaxy.yml").is_file():
        raise FileNotFoundError(f"{base}/ansible_collections/herokuops/postgres does not lead to {checkout}")
    return base
