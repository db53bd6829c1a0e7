#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_slow_query_info
short_description: Report the slow queries of an app's Heroku Postgres databases from their logs
version_added: "0.1.0"
description:
  - Reads the app's recent Postgres logs through a log session, as C(heroku logs -p postgres) does,
    and groups the statements Postgres logged as slow (C(log_min_duration_statement), 2 seconds by
    default on Heroku; see M(herokuops.postgres.heroku_pg_settings)) by fingerprint - the statement
    with its constants, C(IN) lists and C(VALUES) lists collapsed, case and whitespace normalized.
  - For each fingerprint it returns count, total, mean, min, max, p50, p95 and p99 durations, its
    share of the total time, first and last time seen and one example (the slowest).
  - Multi-line statements (C([N-k]) continuation lines) are reassembled, also when the lines of
    several Postgres processes interleave. Lines of other sources are skipped.
  - Only reads. Runs on the controller; use it on C(localhost) or delegate it to C(localhost).
options:
  database:
    description:
      - Only this database's lines, as the Heroku CLI accepts it - V(DATABASE), V(DATABASE_URL),
        V(HEROKU_POSTGRESQL_GREEN), an add-on name, or V(otherapp::NAME).
      - Every database attached to the app when not set.
    type: str
  threshold:
    description:
      - Only statements that took at least this many milliseconds.
      - Postgres only logs statements over its own C(log_min_duration_statement), so a lower value
        here finds nothing more.
    type: float
    default: 0
  lines:
    description:
      - How many of the most recent log lines to read (Heroku returns at most 1500).
    type: int
    default: 1500
  top:
    description:
      - How many fingerprints to return, the first by O(sort).
    type: int
    default: 10
  sort:
    description:
      - Order of the fingerprints - by total time, number of runs, mean time or longest run.
    type: str
    choices: [total, count, mean, max]
    default: total
  show_values:
    description:
      - Return the examples with their constants.
      - By default constants are replaced by V(?), since they may hold personal data.
    type: bool
    default: false
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes.INFO_MODULE
notes:
  - Percentiles are exact up to 1000 runs of a fingerprint; past that they come from a log-scale
    histogram and are within 1 % of the true value (RV(queries[].percentiles_exact) is then false).
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Top 10 slow queries of myapp, by total time
  herokuops.postgres.heroku_pg_slow_query_info:
    app: myapp
  register: slow

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.total_ms | round }} ms in {{ item.count }} runs: {{ item.query }}"
  loop: "{{ slow.queries }}"

- name: The 5 statements with the longest single run on the reporting follower, over 5 seconds
  herokuops.postgres.heroku_pg_slow_query_info:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    threshold: 5000
    sort: max
    top: 5
"""

RETURN = r"""
queries:
  description: The top fingerprints, in the order O(sort) asks for.
  returned: always
  type: list
  elements: dict
  contains:
    fingerprint:
      description: A stable id of the normalized statement (16 hex digits).
      type: str
      sample: ac4d26294fb379a3
    query:
      description: The normalized statement.
      type: str
      sample: select * from users where id = ?
    example:
      description: The slowest run's statement, constants replaced by V(?) unless O(show_values).
      type: str
      sample: "SELECT *\nFROM users\nWHERE id = ?"
    kinds:
      description: How Postgres logged it - V(statement), V(execute), V(parse), V(bind).
      type: list
      elements: str
      sample: [statement]
    count:
      description: Number of runs.
      type: int
      sample: 12
    total_ms:
      description: Total duration in milliseconds.
      type: float
      sample: 30210.5
    mean_ms:
      description: Mean duration.
      type: float
      sample: 2517.5
    min_ms:
      description: Shortest run.
      type: float
      sample: 2001.2
    max_ms:
      description: Longest run.
      type: float
      sample: 4210.9
    p50_ms:
      description: Median duration.
      type: float
      sample: 2405.9
    p95_ms:
      description: 95th percentile duration.
      type: float
      sample: 4002.0
    p99_ms:
      description: 99th percentile duration.
      type: float
      sample: 4169.1
    percentiles_exact:
      description: Whether the percentiles are exact (up to 1000 runs) or from the histogram (within 1 %).
      type: bool
      sample: true
    share:
      description: Share of the total time of all reported statements, from 0 to 1.
      type: float
      sample: 0.42
    first_seen:
      description: Time of the first run in the logs read.
      type: str
      sample: "2026-11-25T14:00:00.123456+00:00"
    last_seen:
      description: Time of the last run in the logs read.
      type: str
      sample: "2026-11-25T14:05:00.654321+00:00"
summary:
  description: Totals over every fingerprint, and what the parser saw.
  returned: always
  type: dict
  sample:
    queries: 40
    fingerprints: 7
    total_ms: 120345.2
    threshold_ms: 0
    lines: 1500
    ignored_lines: 12
    malformed_lines: 0
    sort: total
database:
  description: The database the report is limited to, when O(database) is set.
  returned: always
  type: dict
  sample: {"addon": "postgresql-curved-12345", "config_var": "DATABASE_URL", "attachments": ["DATABASE"]}
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.slow_queries import slow_query_report
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str"),
            threshold=dict(type="float", default=0),
            lines=dict(type="int", default=1500),
            top=dict(type="int", default=10),
            sort=dict(type="str", choices=["total", "count", "mean", "max"], default="total"),
            show_values=dict(type="bool", default=False),
        )
    )
    p = module.params
    module.run(
        lambda ctx: slow_query_report(
            ctx,
            p["app"],
            p["database"],
            threshold_ms=p["threshold"],
            lines=p["lines"],
            top=p["top"],
            sort=p["sort"],
            show_values=p["show_values"],
            timeout=p["timeout"],
        ),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
