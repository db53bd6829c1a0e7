# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the unit tests of the modules and module_utils.

The same tests run under ``ansible-test units`` (whose pytest plugin makes
``ansible_collections.herokuops.postgres`` importable from the collection copy) and under plain
``pytest tests/unit`` from a checkout, where this file installs Ansible's collection loader on
ANSIBLE_COLLECTIONS_PATH, then on the checkout's ``collections/`` (a symlink back to it).

``run_module(main, args, check_mode=False, diff=False)`` runs a module's ``main()`` with those
arguments and returns a :class:`ModuleExit` holding what it passed to ``exit_json``/``fail_json``
(and the warnings it emitted), instead of printing JSON and exiting.
"""

from __future__ import annotations

import os

import pytest


def _collection_importable():
    try:
        import ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        return False
    return True


def _install_collection_loader():
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    from checkout import collections_dir  # tests/support, on sys.path through the root pytest.ini

    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    paths = [p for p in (configured or "").split(os.pathsep) if p]
    paths.append(str(collections_dir()))  # this checkout, as ansible.cfg finds it
    _AnsibleCollectionFinder(paths=paths)._install()  # pylint: disable=protected-access


if not _collection_importable():
    _install_collection_loader()
if not _collection_importable():
    raise ImportError("herokuops.postgres is not importable: set ANSIBLE_COLLECTIONS_PATH to a directory "
                      "holding ansible_collections/herokuops/postgres")


class ModuleExit(Exception):
    """What a module's main() ended with: ``failed`` and the keyword arguments it exited with."""

    def __init__(self, failed, result, warnings):
        super().__init__(result.get("msg", ""))
        self.failed = failed
        self.result = result
        self.warnings = warnings

    def __getitem__(self, key):
        return self.result[key]


@pytest.fixture
def run_module(monkeypatch):
    from ansible.module_utils import basic

    warnings = []

    def exit_json(self, **kwargs):
        raise ModuleExit(False, kwargs, list(warnings))

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise ModuleExit(True, kwargs, list(warnings))

    def warn(self, warning, **kwargs):
        warnings.append(warning)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", warn)

    def run(main, args, check_mode=False, diff=False):
        full = dict(args)
        full["_ansible_check_mode"] = check_mode
        full["_ansible_diff"] = diff
        del warnings[:]
        with module_args(full):
            with pytest.raises(ModuleExit) as info:
                main()
        return info.value

    return run


def module_args(args):
    """Expose ``args`` to the AnsibleModule created inside (ansible-core's helper when it has one)."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        import contextlib
        import json

        from ansible.module_utils import basic
        from ansible.module_utils.common.text.converters import to_bytes

        @contextlib.contextmanager
        def patch_module_args(values):
            saved = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
            basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": values}))  # pylint: disable=protected-access
            try:
                yield
            finally:
                basic._ANSIBLE_ARGS = saved  # pylint: disable=protected-access

    return patch_module_args(args)
