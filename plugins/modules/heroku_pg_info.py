#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_info
short_description: Describe the Heroku Postgres databases of an app
version_added: "0.1.0"
description:
  - Returns what C(heroku pg:info) shows for every Heroku Postgres database of an app, or for one,
    as data - add-on, attachments, plan, status, replication (following, followers, lag),
    forks, sizes, version, availability of fork/follow and rollback.
  - Database URLs are not returned (databases are named by their config vars) unless O(return_secrets=true).
options:
  database:
    description:
      - One database to describe, as the Heroku CLI accepts it - V(DATABASE), V(DATABASE_URL),
        V(HEROKU_POSTGRESQL_GREEN), an add-on name, or V(otherapp::NAME).
      - All of the app's databases when not set.
    type: str
  return_secrets:
    description:
      - Also return each database's connection URL, credentials included, in RV(databases[].url).
      - "Anyone holding it can read and change the database, so also set C(no_log: true) on the task
        and do not print the result."
    type: bool
    default: false
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes.INFO_MODULE
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Describe every database of myapp
  herokuops.postgres.heroku_pg_info:
    app: myapp
  register: pg

- name: Show the lag of the reporting follower
  ansible.builtin.debug:
    msg: "{{ (pg.databases | selectattr('attachments', 'contains', 'REPORTING') | first).behind_by }} commits behind"

- name: Describe the primary only
  herokuops.postgres.heroku_pg_info:
    app: myapp
    database: DATABASE

- name: Read the primary's connection URL, to run psql against it
  herokuops.postgres.heroku_pg_info:
    app: myapp
    database: DATABASE
    return_secrets: true
  register: primary
  no_log: true
"""

RETURN = r"""
databases:
  description: The app's databases, the primary (C(DATABASE)) first.
  returned: always
  type: list
  elements: dict
  contains:
    addon:
      description: Add-on name.
      type: str
      sample: postgresql-curved-12345
    addon_id:
      description: Add-on id (the Data API's database id).
      type: str
      sample: 6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10
    attachments:
      description: Names under which the add-on is attached to the app.
      type: list
      elements: str
      sample: [DATABASE, HEROKU_POSTGRESQL_PINK]
    config_var:
      description: The config var holding its connection URL.
      type: str
      sample: DATABASE_URL
    plan:
      description: Add-on plan.
      type: str
      sample: heroku-postgresql:standard-0
    provisioned:
      description: Whether the database is provisioned (the Data API knows it).
      type: bool
      sample: true
    status:
      description: Database status.
      type: str
      sample: available
    following:
      description: For a follower, the config var name (minus C(_URL)) of its leader.
      type: str
      sample: DATABASE
    followers:
      description: Names of the databases following this one.
      type: list
      elements: str
      sample: [HEROKU_POSTGRESQL_PINK]
    behind_by:
      description: For a follower, how many commits it is behind its leader.
      type: int
      sample: 0
    forked_from:
      description:
        - For a fork, the name of its source on the app (Heroku names it by add-on id); the source's
          add-on id when it is not attached to the app.
      type: str
      sample: DATABASE
    data_size:
      description: Data size as pg:info shows it.
      type: str
      sample: 7.9 MB
    tables:
      description: Number of tables.
      type: int
      sample: 12
    pg_version:
      description: PostgreSQL version.
      type: str
      sample: "16.4"
    fork_follow:
      description: Whether the database can be forked or followed now.
      type: str
      sample: Available
    rollback:
      description: Rollback window, or C(Unsupported).
      type: str
      sample: earliest from 2026-11-21 14:00 UTC
    connections:
      description: Open connections.
      type: int
      sample: 3
    url:
      description: The database's connection URL (the value of its config var), credentials included.
      returned: when O(return_secrets=true)
      type: str
      sample: postgres://user:password@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1a2b3c4
    info:
      description: Every non-empty pg:info row, by name, URLs replaced by names.
      type: dict
      sample: {"Plan": ["Standard 0"], "Status": ["Available"]}
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.info import database_info
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(dict(database=dict(type="str"), return_secrets=dict(type="bool", default=False)))
    params = module.params
    module.run(
        lambda ctx: database_info(ctx, params["app"], params["database"], reveal=params["return_secrets"]),
        database=params["database"],
    )


if __name__ == "__main__":
    main()
