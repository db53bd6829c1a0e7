"""meta/runtime.yml's requires_ansible claims what `make test-matrix` tests, no more and no less:
every ansible-core minor of the matrix (tests/sanity/run-matrix.sh) and none beyond it."""

from __future__ import annotations

import re

import yaml
from checkout import ROOT
from packaging.specifiers import SpecifierSet
from packaging.version import Version


def matrix_minors() -> list[Version]:
    script = (ROOT / "tests" / "sanity" / "run-matrix.sh").read_text()
    cells = re.search(r'^matrix=\$\{MATRIX:-"([^"]+)"\}$', script, re.MULTILINE)
    assert cells, "run-matrix.sh: no default matrix"
    return sorted({Version(cell.split(":")[0]) for cell in cells.group(1).split()})


def test_requires_ansible_is_the_tested_range() -> None:
    spec = SpecifierSet(yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"])
    minors = matrix_minors()
    assert [str(v) for v in minors] == ["2.16", "2.17", "2.18", "2.19"], minors
    for minor in minors:
        assert spec.contains(f"{minor}.0") and spec.contains(f"{minor}.99"), (spec, minor)
    lowest, highest = minors[0], minors[-1]
    below = f"{lowest.major}.{lowest.minor - 1}.99"
    above = f"{highest.major}.{highest.minor + 1}.0"
    assert not spec.contains(below) and not spec.contains(above), (spec, below, above)
