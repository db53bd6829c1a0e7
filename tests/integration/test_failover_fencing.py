"""Write fencing on real PostgreSQL: a writer under the fenced failover loses no acknowledged row.

Two failovers (roles/failover with ``failover_fence: true``) on a postgres-engine sandbox, each
under a writer that keeps inserting through the app's DATABASE_URL (failover_writer.py). Every
acknowledged row must be on the new primary; the writer must have written to both primaries and
had writes refused (the fence at work). ``make soak-failover`` runs twenty, with and without the
fence, and prints the figures. No timing is asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from failover_writer import fail_over
from harness import Ansible
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.threaded import RunningSandbox, postgres_sandbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]
RUNS = 2


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A postgres-engine sandbox (overrides conftest's memory one)."""
    with postgres_sandbox("herokupg-fo-fence-") as running:
        yield running


def test_fenced_failover_loses_no_acknowledged_write(ansible: Ansible, tmp_path: Path) -> None:
    for run in range(RUNS):
        figures = fail_over(ansible, f"fenced{run}", fence=True, workdir=tmp_path)
        print(
            f"\nfenced failover {run + 1}/{RUNS}: {figures.acked} writes acknowledged, {figures.lost} lost, "
            f"{figures.refused_writes} refused, writes refused for {figures.refused_seconds:.2f} s "
            f"(playbook {figures.playbook_seconds:.1f} s)"
        )
        assert figures.lost == 0, f"{figures.lost} acknowledged rows lost: {figures.missing}"
        assert figures.refused_writes > 0, "no write was refused: the old primary was not fenced"
        assert figures.on_old > 0 and figures.on_new > 0, figures
