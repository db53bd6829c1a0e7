#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_backup_schedule
short_description: Schedule daily Heroku Postgres backups
version_added: "0.1.0"
description:
  - Makes sure a database has (V(present)) or has not (V(absent)) a daily backup schedule, like
    C(heroku pg:backups:schedule) and C(heroku pg:backups:unschedule).
  - Idempotent on the hour and the timezone; changing either updates the schedule.
options:
  database:
    description:
      - The database, as the Heroku CLI accepts it - V(DATABASE_URL), V(HEROKU_POSTGRESQL_GREEN),
        an add-on name, or V(otherapp::NAME).
    type: str
    default: DATABASE_URL
  state:
    description:
      - Whether the database has a daily backup schedule.
    type: str
    choices: [present, absent]
    default: present
  at:
    description:
      - When the daily backup runs, as C(--at) of the CLI - C([HOUR]:00 [TIMEZONE]), a whole hour from
        0 to 23 and an optional timezone (default UTC).
      - The timezone is an IANA name such as V(America/New_York), or one of the CLI's abbreviations
        (PST/PDT, MST/MDT, CST/CDT, EST/EDT, GMT/BST, CET/CEST, Z).
      - Required with O(state=present).
    type: str
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The schedule's hour and timezone before and after.
seealso:
  - module: herokuops.postgres.heroku_pg_backup
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Back up the primary database every day at 2 AM New York time
  herokuops.postgres.heroku_pg_backup_schedule:
    app: myapp
    at: "02:00 America/New_York"

- name: Same, with the CLI's abbreviation
  herokuops.postgres.heroku_pg_backup_schedule:
    app: myapp
    at: "2:00 EST"

- name: Stop the daily backups of the reporting database
  herokuops.postgres.heroku_pg_backup_schedule:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    state: absent
"""

RETURN = r"""
schedule:
  description: The schedule (null when absent). In check mode, the one that would be set.
  returned: always
  type: dict
  contains:
    name:
      description: Schedule name, C(<ATTACHMENT>_URL); null in check mode before it exists.
      type: str
      sample: DATABASE_URL
    uuid:
      description: Schedule id; null in check mode before it exists.
      type: str
      sample: 5a3b3c1e-7d5e-4a57-8a3f-2f1b0e9d8c7b
    hour:
      description: Hour of the day, 0-23, in O(at)'s timezone.
      type: int
      sample: 2
    timezone:
      description: IANA timezone.
      type: str
      sample: America/New_York
    at:
      description: Hour and timezone as one string.
      type: str
      sample: 02:00 America/New_York
requests:
  description: The write requests sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/client/v11/databases/6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10/transfer-schedules",
            "body": {"hour": "02", "timezone": "America/New_York", "schedule_name": "DATABASE_URL"},
            "description": "schedule daily backups of postgresql-curved-12345 at 02:00 America/New_York"}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.schedules import ensure_schedule
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", default="DATABASE_URL"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            at=dict(type="str"),
        ),
        required_if=[("state", "present", ["at"])],
    )
    p = module.params
    module.run(
        lambda ctx: ensure_schedule(ctx, p["app"], p["database"], state=p["state"], at=p["at"]),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
