#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_follower
short_description: Ensure read-only followers of a Heroku Postgres database
version_added: "0.1.0"
description:
  - Ensures a follower (a read-only replica) of a leader database exists under an attachment name,
    or is absent; or ensures the leader has exactly O(count) followers on the app.
  - A follower is created as C(heroku addons:create heroku-postgresql:<plan> -- --follow <leader>) does.
    An existing follower is found by its attachment name (or, with O(count), by what it follows),
    so a rerun after a timeout or a lost connection never creates a second add-on.
  - By default waits until each follower is provisioned, available and caught up with its leader.
  - Removing a follower destroys its add-on; only an add-on that follows O(leader) is ever destroyed.
options:
  name:
    description:
      - Attachment name of the follower, for example V(REPORTING) (its URL is in C(REPORTING_URL)).
      - Upper-case letters, digits and underscores, starting with a letter; not V(DATABASE).
      - Exactly one of O(name) and O(count) is required.
    type: str
  count:
    description:
      - How many followers of O(leader) the app should have. Missing ones are created (attached
        under names Heroku picks, C(HEROKU_POSTGRESQL_<COLOR>)); extra ones are destroyed, newest first.
      - Only add-ons billed to O(app) are counted.
    type: int
  leader:
    description:
      - The database to follow, as the Heroku CLI accepts it - V(DATABASE_URL), V(HEROKU_POSTGRESQL_PINK),
        an add-on name, or V(otherapp::NAME).
      - It must be on a Standard, Premium, Private or Shield plan and must not be a follower itself.
    type: str
    default: DATABASE_URL
  state:
    description:
      - Whether the follower O(name) should exist. V(absent) is only valid with O(name).
    type: str
    choices: [present, absent]
    default: present
  plan:
    description:
      - Plan of a new follower, for example V(heroku-postgresql:standard-0) or V(standard-0).
      - Defaults to the leader's plan. The plan of an existing follower is not changed.
    type: str
  max_lag:
    description:
      - While waiting, a follower counts as caught up when it is at most this many commits behind its leader.
    type: int
    default: 0
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
- name: A reporting follower of the primary, caught up
  herokuops.postgres.heroku_pg_follower:
    app: myapp
    name: REPORTING
  register: reporting

- name: Three followers of the primary on a bigger plan, without waiting
  herokuops.postgres.heroku_pg_follower:
    app: myapp
    count: 3
    plan: heroku-postgresql:standard-2
    wait: false

- name: Remove the reporting follower
  herokuops.postgres.heroku_pg_follower:
    app: myapp
    name: REPORTING
    state: absent
"""

RETURN = r"""
leader:
  description: Config var name (minus C(_URL)) of the leader.
  returned: always
  type: str
  sample: DATABASE
follower:
  description:
    - The follower O(name), described like one entry of the C(databases) list of M(herokuops.postgres.heroku_pg_info);
      null when absent (or, in check mode, not created yet).
  returned: when O(name) is set
  type: dict
  sample: {"addon": "postgresql-curved-12345", "attachments": ["REPORTING"], "following": "DATABASE",
           "behind_by": 0, "plan": "heroku-postgresql:standard-0", "status": "Available"}
lag:
  description: How many commits the follower O(name) is behind its leader (null while unknown).
  returned: when O(name) is set
  type: int
  sample: 0
followers:
  description: Every follower of the leader on the app, described like C(heroku_pg_info) entries.
  returned: always
  type: list
  elements: dict
  sample: [{"addon": "postgresql-curved-12345", "attachments": ["REPORTING"], "following": "DATABASE"}]
requests:
  description: The write requests sent (in check mode, that would be sent), without credentials.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/apps/myapp/addons", "description": "Create a follower",
            "body": {"plan": {"name": "heroku-postgresql:standard-0"}, "attachment": {"name": "REPORTING"},
                     "config": {"follow": "DATABASE_URL"}}}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.followers import ensure_follower
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            name=dict(type="str"),
            count=dict(type="int"),
            leader=dict(type="str", default="DATABASE_URL"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            plan=dict(type="str"),
            confirm=dict(type="str"),
            max_lag=dict(type="int", default=0),
        ),
        waits=True,
        mutually_exclusive=[["name", "count"]],
        required_one_of=[["name", "count"]],
        required_if=[["state", "absent", ["name"]]],
    )
    p = module.params
    module.run(
        lambda ctx: ensure_follower(
            ctx,
            p["app"],
            name=p["name"],
            count=p["count"],
            leader=p["leader"],
            state=p["state"],
            plan=p["plan"],
            confirm=p["confirm"],
            max_lag=p["max_lag"],
        ),
        database=p["name"] or p["leader"],
    )


if __name__ == "__main__":
    main()
