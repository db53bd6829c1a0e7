#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_database
short_description: Ensure a Heroku Postgres database add-on exists, or destroy one
version_added: "0.2.0"
description:
  - Ensures a C(heroku-postgresql) add-on with a plan is attached to an app under an attachment name -
    by default V(DATABASE), the app's primary (C(DATABASE_URL)) - and waits until it is available, as
    C(heroku addons:create heroku-postgresql:<plan> --as <name> --wait) does.
  - An existing database is found by its attachment name, so a rerun never creates a second add-on
    (also after a wait that timed out, when the rerun goes on waiting). Its plan and version are not
    changed; a different O(plan) or O(version) gives a warning.
  - With O(state=absent), destroys a Heroku Postgres add-on billed to the app, named by its attachment
    name (O(name)) or by its add-on name or id (O(addon)) - a primary, a former primary still attached
    under another name, a follower or a fork - like C(heroku addons:destroy) does. This deletes the
    database and its data, so it needs O(confirm). Once the add-on is gone, a rerun changes nothing
    and says so.
  - Followers, forks and promotion have their own modules (M(herokuops.postgres.heroku_pg_follower),
    M(herokuops.postgres.heroku_pg_fork), M(herokuops.postgres.heroku_pg_promote)).
options:
  name:
    description:
      - Attachment name of the database on O(app); its URL is in the config var C(<name>_URL).
      - Upper-case letters, digits and underscores, starting with a letter, for example V(DATABASE) or
        V(REPORTING).
      - With O(state=present), defaults to V(DATABASE) (the primary). With O(state=absent), give O(name),
        O(addon) or both (then they must name the same add-on).
    type: str
  addon:
    description:
      - Add-on name of the database, for example V(postgresql-curved-12345), or its add-on id.
      - With O(state=present), the name given to a new add-on (Heroku picks one when not set); an
        existing database attached as O(name) must have this name or id.
      - With O(state=absent), the add-on to destroy, whether it is attached to O(app) or not.
    type: str
  plan:
    description:
      - Plan of a new database, for example V(essential-0), V(standard-0) or
        V(heroku-postgresql:premium-2). Required with O(state=present).
      - Any plan of the Essential, Standard, Premium, Private or Shield tiers; not the Advanced tier.
    type: str
  version:
    description:
      - PostgreSQL major version of a new database, for example V(16) (C(-- --version 16) of the CLI).
        Defaults to Heroku's current default version.
    type: str
  state:
    description:
      - Whether the database should exist.
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description:
      - The app name. Required with O(state=absent) (like the CLI's C(--confirm)); the task fails, changing
        nothing, when it is missing or different.
      - With O(state=present), only used when Heroku asks for confirmation before creating an add-on
        (apps in Private Spaces or Shield); the request is then repeated with it.
    type: str
  refuse_attached_as:
    description:
      - With O(state=absent), attachment names under which the add-on must not be destroyed, for example
        V([DATABASE]) - when the add-on is attached to O(app) under one of them, the task fails and destroys
        nothing. The attachments are read right before the delete.
      - A guard for destroying an add-on remembered by name or id (a former primary, a previous fork) - it
        never destroys what has become the app's primary since.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.heroku.WAIT
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The attachment name, add-on name, plan and presence before and after.
seealso:
  - module: herokuops.postgres.heroku_pg_info
  - module: herokuops.postgres.heroku_pg_follower
  - module: herokuops.postgres.heroku_pg_fork
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: A Standard-0 primary (DATABASE_URL), available
  herokuops.postgres.heroku_pg_database:
    app: myapp
    plan: standard-0

- name: A second database for reports, PostgreSQL 16
  herokuops.postgres.heroku_pg_database:
    app: myapp
    name: REPORTS
    plan: heroku-postgresql:essential-1
    version: "16"

- name: Destroy the former primary a promotion left attached as HEROKU_POSTGRESQL_ROSE
  herokuops.postgres.heroku_pg_database:
    app: myapp
    name: HEROKU_POSTGRESQL_ROSE
    state: absent
    confirm: myapp

- name: Destroy a former primary by its add-on id, never while it is the app's DATABASE
  herokuops.postgres.heroku_pg_database:
    app: myapp
    addon: 01234567-89ab-cdef-0123-456789abcdef
    state: absent
    confirm: myapp
    refuse_attached_as: [DATABASE]

- name: Destroy an add-on by name, attached or not
  herokuops.postgres.heroku_pg_database:
    app: myapp
    addon: postgresql-curved-12345
    state: absent
    confirm: myapp
"""

RETURN = r"""
database:
  description:
    - The database attached as O(name), described like one entry of the C(databases) list of
      M(herokuops.postgres.heroku_pg_info). Null with O(state=absent), and in check mode when it would
      be created.
  returned: always
  type: dict
  sample: {"addon": "postgresql-curved-12345", "attachments": ["DATABASE"], "config_var": "DATABASE_URL",
           "plan": "heroku-postgresql:standard-0", "status": "Available", "pg_version": "16.4"}
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: "No add-on attached as HEROKU_POSTGRESQL_ROSE on myapp: nothing to destroy."
requests:
  description: The write requests sent (in check mode, that would be sent), without credentials.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/apps/myapp/addons", "description": "Create a heroku-postgresql:standard-0
            database attached as DATABASE", "body": {"plan": {"name": "heroku-postgresql:standard-0"},
            "attachment": {"name": "DATABASE"}, "config": {}}}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.database import ensure_database
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            name=dict(type="str"),
            addon=dict(type="str"),
            plan=dict(type="str"),
            version=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            confirm=dict(type="str"),
            refuse_attached_as=dict(type="list", elements="str", default=[]),
        ),
        waits=True,
        required_if=[("state", "present", ["plan"]), ("state", "absent", ["name", "addon"], True)],
    )
    p = module.params
    module.run(
        lambda ctx: ensure_database(
            ctx,
            p["app"],
            name=p["name"],
            addon=p["addon"],
            plan=p["plan"],
            version=p["version"],
            state=p["state"],
            confirm=p["confirm"],
            refuse_attached_as=p["refuse_attached_as"],
        ),
        database=p["name"] or p["addon"] or ("DATABASE" if p["state"] == "present" else None),
    )


if __name__ == "__main__":
    main()
