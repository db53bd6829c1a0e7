#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_backup_info
short_description: List the Heroku Postgres backups, restores and copies of an app
version_added: "0.1.0"
description:
  - Returns what C(heroku pg:backups) shows, as data - backups (V(b001), V(a003) when scheduled),
    restores (V(r002)) and copies (V(c001)) with their status, sizes and times, newest first.
  - Transfers belong to the database's billing app. URLs (database URLs, dump locations) are never returned.
options:
  database:
    description:
      - Only transfers that read from or wrote to this database (backups of it, restores into it,
        copies from or to it), as the Heroku CLI names it - V(DATABASE_URL), V(HEROKU_POSTGRESQL_GREEN),
        an add-on name, or V(otherapp::NAME). Its billing app's transfers are listed.
      - All transfers of O(app) when not set.
    type: str
  kind:
    description:
      - Which transfers to return.
    type: str
    choices: [backup, restore, copy, all]
    default: all
  succeeded:
    description:
      - Only successful (V(true)) or only failed (V(false)) transfers.
      - Every transfer when not set, including running and pending ones (whose RV(transfers[].succeeded) is null).
    type: bool
  latest:
    description:
      - Return only the newest matching transfer (by creation time).
    type: bool
    default: false
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes.INFO_MODULE
seealso:
  - module: herokuops.postgres.heroku_pg_backup
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Every backup, restore and copy of myapp
  herokuops.postgres.heroku_pg_backup_info:
    app: myapp
  register: transfers

- name: The newest successful backup of the primary database
  herokuops.postgres.heroku_pg_backup_info:
    app: myapp
    database: DATABASE_URL
    kind: backup
    succeeded: true
    latest: true
  register: latest

- name: Show its name and size
  ansible.builtin.debug:
    msg: "{{ latest.transfers[0].name }} ({{ latest.transfers[0].size }})"
  when: latest.transfers | length > 0
"""

RETURN = r"""
app:
  description: The app whose transfers were listed (the database's billing app when O(database) is set).
  returned: always
  type: str
  sample: myapp
transfers:
  description: Matching transfers, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name as the CLI shows it.
      type: str
      sample: b003
    num:
      description: Transfer number within the app.
      type: int
      sample: 3
    uuid:
      description: Transfer id.
      type: str
      sample: 0f6b1f2e-3c1d-4b55-9a36-3f3a0d2e9c11
    app:
      description: The app the transfer is listed under.
      type: str
      sample: myapp
    kind:
      description: V(backup), V(restore) or V(copy).
      type: str
      sample: backup
    database:
      description: The database concerned - the source of a backup, the target of a restore or copy.
      type: str
      sample: DATABASE
    source:
      description: Name of the source (a database attachment, a backup name or a file name).
      type: str
      sample: DATABASE
    target:
      description: Name of the target (C(BACKUP) for a backup, else a database attachment).
      type: str
      sample: BACKUP
    scheduled:
      description: Whether a backup schedule captured it.
      type: bool
      sample: false
    status:
      description: Status as C(heroku pg:backups) shows it.
      type: str
      sample: Completed 2026-11-25 14:18:17 +0000
    state:
      description: One of V(completed), V(failed), V(canceled), V(running), V(pending).
      type: str
      sample: completed
    succeeded:
      description: Whether it completed successfully; null while it is pending or running.
      type: bool
      sample: true
    warnings:
      description: Number of warnings.
      type: int
      sample: 0
    created_at:
      description: When it was created.
      type: str
      sample: 2026-11-25 14:18:16 +0000
    started_at:
      description: When it started.
      type: str
      sample: 2026-11-25 14:18:16 +0000
    finished_at:
      description: When it finished; null while running.
      type: str
      sample: 2026-11-25 14:18:17 +0000
    canceled_at:
      description: When it was canceled, if it was.
      type: str
      sample: null
    processed_bytes:
      description: Bytes written (the backup size for a backup).
      type: int
      sample: 1048576
    source_bytes:
      description: Size of the source database in bytes.
      type: int
      sample: 8283002
    size:
      description: RV(transfers[].processed_bytes), human readable.
      type: str
      sample: 1.00MB
    source_size:
      description: RV(transfers[].source_bytes), human readable.
      type: str
      sample: 7.90MB
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.backup_info import backup_info
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str"),
            kind=dict(type="str", choices=["backup", "restore", "copy", "all"], default="all"),
            succeeded=dict(type="bool"),
            latest=dict(type="bool", default=False),
        )
    )
    p = module.params
    module.run(
        lambda ctx: backup_info(
            ctx, p["app"], database=p["database"], kind=p["kind"], succeeded=p["succeeded"], latest=p["latest"]
        ),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
