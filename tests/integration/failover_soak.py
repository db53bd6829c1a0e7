"""``make soak-failover``: failovers under a writer on real PostgreSQL, fenced and not, with figures.

Each run gets its own postgres-engine sandbox and app (failover_writer.py: a primary, a streaming
follower, a writer inserting through DATABASE_URL while roles/failover runs). Prints one line per
run and a summary like ``make bench`` does: acknowledged writes, rows lost, writes refused and for
how long. Exits 1 when a fenced run lost a row (the unfenced runs show what the default can lose).

    make soak-failover                      # 20 fenced runs and 5 unfenced ones
    make soak-failover SOAK_ARGS='--runs 5 --unfenced 2'
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from failover_writer import Figures, fail_over  # noqa: E402
from harness import Ansible  # noqa: E402
from herokupg_sandbox.threaded import postgres_sandbox  # noqa: E402


def one(run: int, fence: bool, root: Path) -> Figures:
    workdir = root / f"run{run}"
    (workdir / "tmp").mkdir(parents=True)
    with postgres_sandbox("herokupg-fo-soak-") as sandbox:
        return fail_over(Ansible(sandbox, workdir), f"soak{run}", fence=fence, workdir=workdir)


def summary(label: str, rows: list[Figures]) -> str:
    if not rows:
        return f"{label}: no runs"
    lost = [r.lost for r in rows]
    refused = [r.refused_seconds for r in rows]
    return (
        f"{label}: {len(rows)} runs, {sum(r.acked for r in rows)} writes acknowledged, "
        f"{sum(lost)} lost (per run: min {min(lost)}, median {statistics.median(lost):g}, max {max(lost)}); "
        f"writes refused for median {statistics.median(refused):.2f} s, max {max(refused):.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=20, help="fenced failovers (default 20)")
    parser.add_argument("--unfenced", type=int, default=5, help="failovers without the fence (default 5)")
    args = parser.parse_args()
    plan = [False] * args.unfenced + [True] * args.runs
    print(f"{'run':>4} {'fence':>6} {'acked':>6} {'old':>6} {'new':>6} {'lost':>5} {'refused':>8} "
          f"{'refused s':>9} {'playbook s':>10}", flush=True)
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="herokupg-fo-soak-") as tmp:
        for run, fence in enumerate(plan, start=1):
            r = one(run, fence, Path(tmp))
            rows.append(r)
            print(f"{run:>4} {'yes' if fence else 'no':>6} {r.acked:>6} {r.on_old:>6} {r.on_new:>6} "
                  f"{r.lost:>5} {r.refused_writes:>8} {r.refused_seconds:>9.2f} {r.playbook_seconds:>10.1f}",
                  flush=True)
    print(summary("without fence", [r for r in rows if not r.fenced]))
    print(summary("with fence", [r for r in rows if r.fenced]))
    return 1 if any(r.lost for r in rows if r.fenced) else 0


if __name__ == "__main__":
    sys.exit(main())
