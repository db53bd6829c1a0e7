# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module fails through one mapping: it talks to HerokuModule only, never to the
AnsibleModule behind it, so each core error becomes the same kind of failure everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MODULES = sorted((Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("*.py"))
IMPORT = "from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule\n"
# module.module.fail_json, module._module.warn, AnsibleModule(...), ansible's missing_required_lib...
AROUND = re.compile(r"\.module\.|\._module\b|\bAnsibleModule\b|missing_required_lib|sys\.exit")


def test_there_are_modules_and_the_check_sees_a_detour():
    assert len(MODULES) >= 12, MODULES
    detours = ["module.module.fail_json(msg='x')", "module._module.warn('w')", "AnsibleModule(argument_spec={})",
               "msg=missing_required_lib('psycopg')"]
    assert all(AROUND.search(line) for line in detours)
    assert not AROUND.search("module.fail_json(msg='url applies to state=present only.')")


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.stem)
def test_module_uses_only_heroku_module(path):
    code = path.read_text()
    assert IMPORT in code
    calls = [line.strip() for line in code.splitlines() if AROUND.search(line)]
    assert calls == [], "%s goes around HerokuModule" % path.name
