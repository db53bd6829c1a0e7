#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_outliers_info
short_description: Report the statements of a Heroku Postgres database by total execution time
version_added: "0.2.0"
description:
  - Reads C(pg_stat_statements) of one database, as C(heroku pg:outliers) does, and returns the
    statements of the database's own user by total execution time, with number of calls, mean time,
    share of the total time and synchronous I/O time (block reads and writes).
  - Connects to the database directly with psycopg 3. The credentials come from the app's config
    vars through the Heroku API; they are never returned or logged.
  - The extension must be installed in the database (C(CREATE EXTENSION pg_stat_statements)); when
    it is not, the module fails and says how to install it.
  - Only reads, in read-only transactions. Runs on the controller; use it on C(localhost) or
    delegate it to C(localhost).
options:
  database:
    description:
      - The database, as the Heroku CLI accepts it - V(DATABASE), V(DATABASE_URL),
        V(HEROKU_POSTGRESQL_GREEN), an add-on name, or V(otherapp::NAME).
    type: str
    default: DATABASE_URL
  top:
    description:
      - How many statements to return, the longest total execution time first.
    type: int
    default: 10
  show_values:
    description:
      - Return the constants C(pg_stat_statements) keeps in its query texts.
      - It replaces the constants of ordinary statements by V($1), V($2)... itself, but keeps those of
        utility statements (an C(ALTER ROLE ... PASSWORD) for example), so by default every constant
        left is replaced by V(?).
    type: bool
    default: false
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes.INFO_MODULE
requirements:
  - psycopg >= 3.1 (C(pip install 'herokupg[postgres]'))
notes:
  - The timeout option also bounds the connection to the database.
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: The 10 statements that take the most time on myapp's primary database
  herokuops.postgres.heroku_pg_outliers_info:
    app: myapp
  register: outliers

- name: Show them
  ansible.builtin.debug:
    msg: "{{ (item.share * 100) | round(1) }} % in {{ item.calls }} calls: {{ item.query }}"
  loop: "{{ outliers.queries }}"

- name: The top 3 of the reporting follower
  herokuops.postgres.heroku_pg_outliers_info:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    top: 3
"""

RETURN = r"""
queries:
  description: The statements, the longest total execution time first.
  returned: always
  type: list
  elements: dict
  contains:
    queryid:
      description: The statement's id in C(pg_stat_statements).
      type: str
      sample: "-4126316390325178384"
    query:
      description: The statement as C(pg_stat_statements) keeps it (constants V($n)), other constants
        replaced by V(?) unless O(show_values).
      type: str
      sample: "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"
    calls:
      description: Number of runs.
      type: int
      sample: 4821
    rows:
      description: Rows retrieved or affected, in all.
      type: int
      sample: 4821
    total_exec_ms:
      description: Total execution time in milliseconds.
      type: float
      sample: 5210.3
    mean_ms:
      description: Mean execution time.
      type: float
      sample: 1.081
    share:
      description: Share of the total execution time of the user's statements, from 0 to 1.
      type: float
      sample: 0.42
    io_ms:
      description: Time spent reading and writing blocks (synchronous I/O), in milliseconds.
      type: float
      sample: 12.5
summary:
  description: Totals of the user's statements and where the extension lives.
  returned: always
  type: dict
  sample:
    statements: 12
    total_exec_ms: 12406.2
    server_version_num: 150010
    extension_schema: public
database:
  description: The database read.
  returned: always
  type: dict
  sample: {"addon": "postgresql-curved-12345", "config_var": "DATABASE_URL", "attachments": ["DATABASE"]}
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.outliers import outliers_report
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", default="DATABASE_URL"),
            top=dict(type="int", default=10),
            show_values=dict(type="bool", default=False),
        )
    )
    module.require_psycopg("to read pg_stat_statements")
    p = module.params
    module.run(
        lambda ctx: outliers_report(
            ctx, p["app"], p["database"], top=p["top"], show_values=p["show_values"], timeout=p["timeout"]
        ),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
