#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_promote
short_description: Make a Heroku Postgres database the app's primary (DATABASE_URL)
version_added: "0.1.0"
description:
  - Makes O(database) the app's C(DATABASE), as C(heroku pg:promote) does, and by default also
    unfollows it first so that the new primary is writable.
  - "With O(unfollow=true) and a follower: waits until it has caught up with its leader (at most
    O(max_lag) commits behind), unfollows it and waits until it is writable, then attaches it."
  - The old primary keeps (or gets) another attachment, so it stays reachable; attaching the new
    C(DATABASE) replaces the old one in one step, so the app is never without a C(DATABASE). A
    connection pooler attached as C(DATABASE_CONNECTION_POOL) is moved to the new primary.
  - When the app has a release phase, waits until the C(Attach DATABASE) release has finished.
  - Nothing is changed when O(database) already is the app's writable C(DATABASE).
  - Each step is skipped when already done, so a rerun after a failure or a timeout continues.
  - O(database) must be a follower of the app's current C(DATABASE), unless O(allow_non_follower=true).
  - "Two promotions of one app at once: right before the unfollow and again right before attaching
    C(DATABASE), the module reads the app again; when C(DATABASE) is no longer the database it read at the
    start, or O(database) no longer follows it, it stops with an error that names the database the other
    promotion made the primary, so C(DATABASE) is never moved twice."
options:
  database:
    description:
      - The database to promote, as the Heroku CLI accepts it - V(HEROKU_POSTGRESQL_PINK), V(REPLICA_URL),
        an add-on name, or V(otherapp::NAME).
    type: str
    required: true
  confirm:
    description:
      - The app name, to confirm this destructive change (like the CLI's C(--confirm)). Nothing is
        changed when it is missing or different.
    type: str
  unfollow:
    description:
      - Whether to unfollow a follower before promoting it. With V(false) the database is only attached
        as C(DATABASE) (what C(heroku pg:promote) does) and a warning says it is still read-only.
    type: bool
    default: true
  max_lag:
    description:
      - Before unfollowing, wait until the follower is at most this many commits behind its leader.
        Commits it has not replayed when it is unfollowed are not in the new primary.
    type: int
    default: 0
  allow_non_follower:
    description:
      - Promote O(database) even when it is not a follower of the app's current C(DATABASE) - a fork, a
        database filled with C(heroku pg:copy), a follower of another database, or a follower whose
        failover was interrupted after its unfollow (a rerun of that failover).
      - By default such a database is refused, changing nothing, because C(DATABASE_URL) would then point
        at a database that does not hold what the current primary holds. An app without a C(DATABASE)
        takes any database.
    type: bool
    default: false
    version_added: "0.2.0"
  fence:
    description:
      - "Write fencing: before the unfollow, make the old primary refuse writes, so that no write it
        acknowledges is missing from the new primary. Through a direct PostgreSQL connection with the
        database's own credentials (read through the API, never shown): C(ALTER DATABASE ... SET
        default_transaction_read_only = on), then every session that started before is ended, then the
        follower is waited for until it has replayed the old primary's WAL up to that point; only then is
        it unfollowed and attached as C(DATABASE)."
      - From the fence until the app uses the new C(DATABASE_URL) (its dynos restart with the release of
        the attachment), the app's writes fail instead of being lost. The old primary stays read-only
        afterwards (RV(fence)).
      - When the promotion fails before the unfollow, a fence this run set is lifted again. After the
        unfollow it is kept, and the error says how to finish (O(allow_non_follower=true)) or how to make
        the old primary writable again.
      - A second fenced promotion of the same primary at the same time stops at once, naming the first.
      - Not fenced are clients that ask for a read-write transaction themselves (C(BEGIN READ WRITE)) and
        Heroku's own superuser sessions. Needs psycopg 3 on the controller (C(pip install
        'herokupg[postgres]')) and O(unfollow=true).
    type: bool
    default: false
    version_added: "0.2.0"
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.heroku.WAIT
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - psycopg 3, only with O(fence=true) (the C(postgres) extra of herokupg).
notes:
  - With O(wait=false) the module still waits for the unfollow to finish before attaching (a read-only
    C(DATABASE) is what unfollowing avoids), but it does not wait for a follower to catch up; it fails
    instead when the follower is more than O(max_lag) commits behind.
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Fail over to the REPLICA follower
  herokuops.postgres.heroku_pg_promote:
    app: myapp
    database: REPLICA
    confirm: myapp

- name: Fail over without losing a write the old primary acknowledged (needs psycopg)
  herokuops.postgres.heroku_pg_promote:
    app: myapp
    database: REPLICA
    confirm: myapp
    fence: true

- name: Make a fork the primary (it follows nothing, so it must be allowed explicitly)
  herokuops.postgres.heroku_pg_promote:
    app: myapp
    database: STAGING_COPY
    confirm: myapp
    allow_non_follower: true

- name: Only move DATABASE_URL (the follower stays read-only), as pg:promote does
  herokuops.postgres.heroku_pg_promote:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    confirm: myapp
    unfollow: false
"""

RETURN = r"""
database:
  description:
    - The app's C(DATABASE) after the change, described like one entry of the C(databases) list of
      M(herokuops.postgres.heroku_pg_info). Null in check mode when something would change.
  returned: always
  type: dict
  sample: {"addon": "postgresql-curved-12345", "attachments": ["REPLICA", "DATABASE"], "following": null,
           "status": "Available"}
previous:
  description: The former primary and the attachment name it keeps; null when nothing was re-attached.
  returned: always
  type: dict
  contains:
    addon:
      description: Add-on name of the former primary.
      type: str
      sample: postgresql-shallow-54321
    alias:
      description: Its other attachment name (null in check mode when one would be created).
      type: str
      sample: HEROKU_POSTGRESQL_IVORY
fence:
  description:
    - What O(fence=true) did to the old primary (in check mode, what it would do).
  returned: when O(fence=true) and a database was replaced
  type: dict
  contains:
    database:
      description: Add-on name of the old primary.
      type: str
      sample: postgresql-shallow-54321
    read_only:
      description: Whether it refuses writes now.
      type: bool
      sample: true
    set_by_this_run:
      description: Whether this run set the fence (false when an earlier run had set it).
      type: bool
      sample: true
    lifted:
      description: Whether this run lifted its fence again, after a failure before the unfollow.
      type: bool
      sample: false
    sessions_ended:
      description: Sessions of the old primary that this run ended.
      type: int
      sample: 12
    wal_position:
      description: The old primary's WAL position once fenced, which the follower replayed before its unfollow.
      type: str
      sample: 0/3000148
requests:
  description: The write requests sent (in check mode, that would be sent), without credentials.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/addon-attachments", "description": "Attach postgresql-curved-12345 as DATABASE",
            "body": {"addon": {"name": "postgresql-curved-12345"}, "app": {"name": "myapp"}, "confirm": "myapp",
                     "name": "DATABASE", "namespace": null}}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.promote import promote
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", required=True),
            confirm=dict(type="str"),
            unfollow=dict(type="bool", default=True),
            max_lag=dict(type="int", default=0),
            allow_non_follower=dict(type="bool", default=False),
            fence=dict(type="bool", default=False),
        ),
        waits=True,
    )
    p = module.params
    if p["fence"]:
        module.require_psycopg("for write fencing (fence: true)")
    module.run(
        lambda ctx: promote(
            ctx,
            p["app"],
            p["database"],
            confirm=p["confirm"],
            unfollow=p["unfollow"],
            max_lag=p["max_lag"],
            allow_non_follower=p["allow_non_follower"],
            fence=p["fence"],
        ),
        database=p["database"],
    )


if __name__ == "__main__":
    main()
