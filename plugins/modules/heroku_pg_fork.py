#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_fork
short_description: Ensure a fork (or point-in-time rollback) of a Heroku Postgres database
version_added: "0.1.0"
description:
  - Ensures a fork - an independent, writable copy - of a source database exists under an attachment
    name, or is absent.
  - With O(to) or O(by) the copy is a rollback of the source to a point in time within its rollback
    window (Standard 4 days, Premium and above 1 week).
  - Created as C(heroku addons:create heroku-postgresql:<plan> -- --fork <source>) (or C(--rollback))
    does. An existing fork is found by its attachment name, so a rerun never creates a second copy;
    the options of an existing fork (O(fast), O(to), O(by), O(plan)) are not compared.
  - By default waits until the fork is provisioned and available.
  - Removing a fork destroys its add-on; only an add-on forked from O(source) is ever destroyed.
options:
  name:
    description:
      - Attachment name of the fork, for example V(STAGING_COPY) (its URL is in C(STAGING_COPY_URL)).
      - Upper-case letters, digits and underscores, starting with a letter; not V(DATABASE).
    type: str
    required: true
  source:
    description:
      - The database to copy, as the Heroku CLI accepts it - V(DATABASE_URL), V(HEROKU_POSTGRESQL_PINK),
        an add-on name, or V(otherapp::NAME). Standard, Premium, Private or Shield plans only.
    type: str
    default: DATABASE_URL
  state:
    description:
      - Whether the fork should exist.
    type: str
    choices: [present, absent]
    default: present
  fast:
    description:
      - Fork from the latest base backup instead of up to the current moment (faster, up to about 30
        hours out of date). Not valid with O(to) or O(by).
    type: bool
    default: false
  to:
    description:
      - Roll back to this moment, for example V(2026-05-01 12:00 UTC).
      - Mutually exclusive with O(by).
    type: str
  by:
    description:
      - Roll back by this interval from now, for example V(3 days 7 hours).
      - Mutually exclusive with O(to).
    type: str
  plan:
    description:
      - Plan of a new fork, for example V(heroku-postgresql:standard-0). Defaults to the source's plan.
    type: str
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.heroku.WAIT
  - herokuops.postgres.heroku.ADDON_CONFIRM
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: A fast fork of the primary for a migration rehearsal
  herokuops.postgres.heroku_pg_fork:
    app: myapp
    name: REHEARSAL
    fast: true

- name: The primary as it was two hours ago
  herokuops.postgres.heroku_pg_fork:
    app: myapp
    name: BEFORE_INCIDENT
    by: 2 hours

- name: Remove the rehearsal copy
  herokuops.postgres.heroku_pg_fork:
    app: myapp
    name: REHEARSAL
    state: absent
"""

RETURN = r"""
source:
  description: Config var name (minus C(_URL)) of the source.
  returned: always
  type: str
  sample: DATABASE
fork:
  description:
    - The fork, described like one entry of the C(databases) list of M(herokuops.postgres.heroku_pg_info);
      null when absent (or, in check mode, not created yet).
  returned: always
  type: dict
  sample: {"addon": "postgresql-curved-12345", "attachments": ["REHEARSAL"], "forked_from": "DATABASE",
           "plan": "heroku-postgresql:standard-0", "status": "Available"}
requests:
  description: The write requests sent (in check mode, that would be sent), without credentials.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/apps/myapp/addons", "description": "Create a fork",
            "body": {"plan": {"name": "heroku-postgresql:standard-0"}, "attachment": {"name": "REHEARSAL"},
                     "config": {"fork": "DATABASE_URL", "fast": true}}}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.forks import ensure_fork
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            name=dict(type="str", required=True),
            source=dict(type="str", default="DATABASE_URL"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            fast=dict(type="bool", default=False),
            to=dict(type="str"),
            by=dict(type="str"),
            plan=dict(type="str"),
            confirm=dict(type="str"),
        ),
        waits=True,
        mutually_exclusive=[["to", "by"], ["fast", "to"], ["fast", "by"]],
    )
    p = module.params
    module.run(
        lambda ctx: ensure_fork(
            ctx,
            p["app"],
            name=p["name"],
            source=p["source"],
            state=p["state"],
            fast=p["fast"],
            to=p["to"],
            by=p["by"],
            plan=p["plan"],
            confirm=p["confirm"],
        ),
        database=p["name"],
    )


if __name__ == "__main__":
    main()
