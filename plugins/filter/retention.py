# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for backup retention: which backups to keep, and the names of off-platform copies.

Both run on the controller and only wrap pure functions of ``herokupg.retention`` (the
policy lives in the Python core, where it is typed and unit tested); they never call an API.
"""

from __future__ import annotations

import os
import traceback

from ansible.errors import AnsibleFilterError

HEROKUPG_IMPORT_ERROR = None
try:
    from herokupg.errors import HerokuPgError
    from herokupg import retention as core
except ImportError:
    HEROKUPG_IMPORT_ERROR = traceback.format_exc()


def _require_core():
    if HEROKUPG_IMPORT_ERROR:
        raise AnsibleFilterError(
            "The herokuops.postgres retention filters need the herokupg Python package on the "
            "controller (pip install herokupg): " + HEROKUPG_IMPORT_ERROR.strip().splitlines()[-1]
        )


def _as_backup(item):
    """A core Backup from a transfer dict or an off-platform file path; None for other files."""
    if isinstance(item, str):
        return core.parse_offsite_filename(os.path.basename(item))
    if isinstance(item, dict):
        return core.from_transfer(item)
    raise AnsibleFilterError(f"backup_retention expects transfers (dicts) or file paths, got {item!r}")


def backup_retention(items, daily=7, weekly=5, manual=10):
    """Split ``items`` into the ones to keep and the ones to drop under the policy."""
    _require_core()
    if not isinstance(items, list):
        raise AnsibleFilterError("backup_retention expects a list")
    try:
        policy = core.Policy(daily=int(daily), weekly=int(weekly), manual=int(manual))
        parsed = [(item, _as_backup(item)) for item in items]
        selection = core.select([pair[1] for pair in parsed if pair[1] is not None], policy)
    except (HerokuPgError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"backup_retention: {exc}") from None
    keep = set(selection.keep)
    return {
        "keep": [item for item, b in parsed if b is not None and b.name in keep],
        "drop": [item for item, b in parsed if b is not None and b.name not in keep],
        "ignored": [item for item, b in parsed if b is None],
        "keep_names": list(selection.keep),
        "drop_names": list(selection.drop),
    }


def backup_offsite_name(transfer):
    """The file name an off-platform copy of ``transfer`` gets: ``<name>-<YYYY-MM-DD>.dump``."""
    _require_core()
    if not isinstance(transfer, dict):
        raise AnsibleFilterError("backup_offsite_name expects a transfer (a dict)")
    try:
        return core.offsite_filename(core.from_transfer(transfer))
    except HerokuPgError as exc:
        raise AnsibleFilterError(f"backup_offsite_name: {exc}") from None


class FilterModule:
    def filters(self):
        return {
            "backup_retention": backup_retention,
            "backup_offsite_name": backup_offsite_name,
        }
