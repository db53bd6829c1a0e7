#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_restore
short_description: Restore a Heroku Postgres backup into a database
version_added: "0.1.0"
description:
  - Restores a backup into a database like C(heroku pg:backups:restore), replacing all of its data,
    and waits for the restore to complete. A failed restore fails the task with its last log lines.
  - A restore is an action and is reported changed every time, unless O(once=true) and the newest
    successful restore into that database came from the same backup.
options:
  database:
    description:
      - The database to restore into, as the Heroku CLI accepts it - V(DATABASE_URL),
        V(HEROKU_POSTGRESQL_GREEN), an add-on name, or V(otherapp::NAME).
    type: str
    default: DATABASE_URL
  backup:
    description:
      - What to restore - a backup of O(app) by name (V(b001)), V(latest) (the newest successful backup
        of O(app) by finish time), another app's backup (V(otherapp::b005), V(otherapp::latest)), or
        the http(s) URL of a pg_dump archive.
    type: str
    default: latest
  confirm:
    description:
      - The app name, to confirm that the database's data is replaced (like the CLI's C(--confirm)).
      - The restore fails, changing nothing, when it is missing or different.
    type: str
  once:
    description:
      - Do nothing when the newest successful restore into O(database) came from the same backup;
        wait for a restore from it that is still running instead of starting another.
    type: bool
    default: false
  extensions:
    description:
      - Extensions to pre-install before restoring (for example V(hstore) or V(myschema.hstore)).
    type: list
    elements: str
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.heroku.WAIT
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The newest restore into the database (name and source) before and after.
seealso:
  - module: herokuops.postgres.heroku_pg_backup
  - module: herokuops.postgres.heroku_pg_backup_info
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Restore the latest backup of production into staging, once
  herokuops.postgres.heroku_pg_restore:
    app: myapp-staging
    backup: myapp::latest
    confirm: myapp-staging
    once: true

- name: Restore backup b012 into the reporting database
  herokuops.postgres.heroku_pg_restore:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    backup: b012
    confirm: myapp

- name: Restore from a dump file on the web
  herokuops.postgres.heroku_pg_restore:
    app: myapp
    backup: https://example.com/dumps/seed.dump
    confirm: myapp
"""

RETURN = r"""
source:
  description: The backup restored, as C(app::name), or the URL without its credentials and query string.
  returned: always
  type: str
  sample: myapp::b012
source_backup:
  description: Name of the backup restored; null for a URL.
  returned: always
  type: str
  sample: b012
restore:
  description: The restore transfer; null in check mode when a restore would start.
  returned: always
  type: dict
  contains:
    name:
      description: Restore name.
      type: str
      sample: r013
    uuid:
      description: Transfer id.
      type: str
      sample: 0f6b1f2e-3c1d-4b55-9a36-3f3a0d2e9c11
    database:
      description: Attachment name of the database restored into.
      type: str
      sample: DATABASE
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
requests:
  description: The write requests sent (or, in check mode, that would be sent). The backup URL is not shown.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/client/v11/databases/6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10/restores",
            "body": {"backup_url": "<backup URL>"}, "description": "restore myapp::b012 into DATABASE"}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.restore import restore_backup
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", default="DATABASE_URL"),
            backup=dict(type="str", default="latest"),
            confirm=dict(type="str"),
            once=dict(type="bool", default=False),
            extensions=dict(type="list", elements="str"),
        ),
        waits=True,
    )
    p = module.params
    module.run(
        lambda ctx: restore_backup(
            ctx,
            p["app"],
            p["database"],
            backup=p["backup"],
            confirm=p["confirm"],
            once=p["once"],
            extensions=p["extensions"],
        ),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
