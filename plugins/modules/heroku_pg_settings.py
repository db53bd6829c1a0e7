#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_settings
short_description: Ensure the Postgres settings of a Heroku Postgres database
version_added: "0.1.0"
description:
  - Makes the settings the Heroku Data API exposes for a database (what C(heroku pg:settings) shows and
    the C(heroku pg:settings:*) commands change) have the given values, in one request, and only when
    one of them differs.
  - Settings not listed are left as they are.
  - Setting names and value types come from what the API reports for the database, so names it does
    not report fail with the list of valid ones, and values are compared by kind
    (V(50) and V("50"), V(true) and V(on) are the same).
  - Essential-tier databases are refused before any change, as the Heroku CLI does.
options:
  database:
    description:
      - The database, as the Heroku CLI accepts it - V(DATABASE_URL), V(DATABASE),
        V(HEROKU_POSTGRESQL_GREEN), an add-on name, or V(otherapp::NAME).
    type: str
    default: DATABASE_URL
  settings:
    description:
      - Setting names (with underscores, as the API reports them) mapped to their values, for example
        V(log_min_duration_statement), V(log_statement), V(log_lock_waits), V(log_connections),
        V(log_min_error_statement), V(track_functions), V(auto_explain), V(auto_explain.log_min_duration).
      - Booleans accept V(true)/V(false), V(on)/V(off), V(yes)/V(no); numbers may be given as strings;
        choices such as V(log_statement) must be one of the values the API lists for them.
      - A value the API itself rejects (a number out of range, say) fails with the API's message
        and changes nothing.
      - An empty mapping changes nothing and returns the current settings.
    type: dict
    required: true
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The before and after values of the settings given in O(settings) only.
seealso:
  - name: Heroku Postgres settings
    description: The C(heroku pg:settings) commands.
    link: https://devcenter.heroku.com/articles/heroku-postgres-settings
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Log slow statements, DDL and lock waits on the primary database
  herokuops.postgres.heroku_pg_settings:
    app: myapp
    settings:
      log_min_duration_statement: 50
      log_statement: ddl
      log_lock_waits: true

- name: Track PL/pgSQL functions on a follower
  herokuops.postgres.heroku_pg_settings:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    settings:
      track_functions: pl

- name: Read every setting without changing any
  herokuops.postgres.heroku_pg_settings:
    app: myapp
    settings: {}
  register: pg_settings
"""

RETURN = r"""
database:
  description: The database whose settings were ensured.
  returned: success
  type: dict
  contains:
    addon:
      description: Add-on name.
      type: str
      sample: postgresql-curved-12345
    addon_id:
      description: Add-on id (the Data API's database id).
      type: str
      sample: 6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10
    config_var:
      description: The config var holding its connection URL.
      type: str
      sample: DATABASE_URL
    attachments:
      description: Names under which the add-on is attached to the app.
      type: list
      elements: str
      sample: [DATABASE, HEROKU_POSTGRESQL_PINK]
    plan:
      description: Add-on plan.
      type: str
      sample: heroku-postgresql:standard-0
    app:
      description: The app the database was resolved on.
      type: str
      sample: myapp
settings:
  description:
    - Every setting the API reports for the database, with its value after the run
      (in check mode, the value it would have).
  returned: success
  type: dict
  sample: {"log_lock_waits": true, "log_min_duration_statement": 50, "log_statement": "ddl"}
changes:
  description: The settings that were (in check mode, would be) changed, with their new values.
  returned: success
  type: dict
  sample: {"log_min_duration_statement": 50}
requests:
  description: The write requests sent (in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample:
    - method: PATCH
      path: /postgres/v0/databases/6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10/config
      body: {"log_min_duration_statement": 50}
      description: set log_min_duration_statement=50 on postgresql-curved-12345 (DATABASE_URL) on app myapp
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.settings import ensure_settings
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", default="DATABASE_URL"),
            settings=dict(type="dict", required=True),
        )
    )
    params = module.params
    module.run(
        lambda ctx: ensure_settings(ctx, params["app"], params["settings"], params["database"]),
        database=params["database"],
    )


if __name__ == "__main__":
    main()
