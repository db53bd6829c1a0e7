#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_pg_backup
short_description: Capture, delete, sign or download Heroku Postgres backups
version_added: "0.1.0"
description:
  - With O(state=present), captures a backup of a database like C(heroku pg:backups:capture) and waits
    for it to complete. With O(max_age), a successful backup of that database started within that
    time is used instead, so the task is idempotent; a backup of the database still running is
    waited for rather than captured twice.
  - With O(state=present) and O(id), nothing is captured; the existing backup is signed or downloaded.
  - With O(state=absent), deletes backup O(id) like C(heroku pg:backups:delete). A backup that is
    already gone is reported unchanged.
  - O(url) returns a signed download URL (C(heroku pg:backups:url)); O(dest) downloads the backup
    (C(heroku pg:backups:download)) atomically, checks its size and, for a pg_dump custom-format
    archive, reads it with C(pg_restore --list) when that program is installed.
options:
  database:
    description:
      - The database to back up, as the Heroku CLI accepts it - V(DATABASE_URL), V(HEROKU_POSTGRESQL_GREEN),
        an add-on name, or V(otherapp::NAME).
      - Ignored when O(id) is set (backup ids belong to the app).
    type: str
    default: DATABASE_URL
  state:
    description:
      - V(present) captures (or, with O(max_age) or O(id), reuses) a backup; V(absent) deletes backup O(id).
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - A backup of O(app) by name, such as V(b001), V(a012) (scheduled) or V(ob012) (imported).
      - Required with O(state=absent).
    type: str
  confirm:
    description:
      - The app name, to confirm deleting a backup (like the CLI's C(--confirm)). Required with O(state=absent).
    type: str
  max_age:
    description:
      - Skip the capture when a successful backup of O(database) started less than this long ago exists,
        or one is still running (it is waited for instead).
      - Runs started together on one controller take turns, so they capture once and all use that backup
        (a lock file per database in C($TMPDIR/herokupg-<uid>)). When a run elsewhere captured the same
        database at the same moment, the later capture is cancelled and the earlier one used (with a warning).
      - A duration such as V(30m), V(24h), V(7d), V(1h30m), or a number of seconds.
    type: str
  url:
    description:
      - Return a signed URL to download the backup in RV(url). It is replaced by C(********) unless
        O(return_secrets=true).
    type: bool
    default: false
  return_secrets:
    description:
      - "Return the signed URL itself in RV(url). Anyone holding it can download the whole database
        until it expires, so also set C(no_log: true) on the task."
    type: bool
    default: false
  dest:
    description:
      - Download the backup to this file, or, for an existing directory, to a file in it - C(latest.dump)
        for the backup captured or reused (the database's newest), C(<id>.dump) with O(id). The directory
        must exist. The file is written under a temporary name and renamed when complete.
      - A file is identified by the backup it holds, not by its size - C(.<file name>.herokupg.json) beside it
        records the backup's app, name, transfer id, size and the file's SHA-256. An existing file is kept
        only when it holds that very backup (all of these match), unless O(force=true); so C(latest.dump)
        always holds the newest backup's bytes, also when a new backup has the old one's size.
    type: path
  force:
    description:
      - Download to O(dest) even when the file there already holds the backup.
    type: bool
    default: false
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.heroku.WAIT
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The backup names of the database before and after.
seealso:
  - module: herokuops.postgres.heroku_pg_backup_info
  - module: herokuops.postgres.heroku_pg_backup_schedule
  - module: herokuops.postgres.heroku_pg_restore
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Capture a backup unless one from the last 24 hours exists
  herokuops.postgres.heroku_pg_backup:
    app: myapp
    max_age: 24h

- name: Capture a backup of the reporting database and download it
  herokuops.postgres.heroku_pg_backup:
    app: myapp
    database: HEROKU_POSTGRESQL_PINK
    dest: /var/backups/myapp-reporting.dump

- name: Get a signed URL of backup b012
  herokuops.postgres.heroku_pg_backup:
    app: myapp
    id: b012
    url: true
    return_secrets: true
  no_log: true
  register: signed

- name: Delete backup b001
  herokuops.postgres.heroku_pg_backup:
    app: myapp
    id: b001
    state: absent
    confirm: myapp
"""

RETURN = r"""
backup:
  description: The backup captured, reused or deleted; null when O(state=absent) found nothing, or in
    check mode when a capture would happen.
  returned: always
  type: dict
  contains:
    name:
      description: Backup name.
      type: str
      sample: b003
    num:
      description: Transfer number within the app.
      type: int
      sample: 3
    uuid:
      description: Transfer id.
      type: str
      sample: 0f6b1f2e-3c1d-4b55-9a36-3f3a0d2e9c11
    app:
      description: The app the backup is listed under (the database's billing app).
      type: str
      sample: myapp
    kind:
      description: Always V(backup) here.
      type: str
      sample: backup
    database:
      description: Attachment name of the database backed up.
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
      description: Whether the backup completed successfully; null while it is pending or running
        (Heroku answers null until a transfer finishes).
      type: bool
      sample: true
    processed_bytes:
      description: Size of the backup in bytes.
      type: int
      sample: 1048576
    size:
      description: Size of the backup, human readable.
      type: str
      sample: 1.00MB
    finished_at:
      description: When the backup finished.
      type: str
      sample: 2026-11-25 14:18:17 +0000
url:
  description: Signed download URL of the backup, C(********) unless O(return_secrets=true); null in
    check mode when the backup would be captured.
  returned: when O(url=true)
  type: str
  sample: "********"
url_expires_at:
  description: When the signed URL expires.
  returned: when O(url=true)
  type: str
  sample: 2026-11-25 14:28:17 +0000
download:
  description: What was downloaded to O(dest).
  returned: when O(dest) is set
  type: dict
  contains:
    path:
      description: The file written.
      type: str
      sample: /var/backups/latest.dump
    size:
      description: Its size in bytes.
      type: int
      sample: 1048576
    validated:
      description: Whether C(pg_restore --list) could read the archive.
      type: bool
      sample: false
    validation:
      description: What was checked, or why the archive could not be read.
      type: str
      sample: not a pg_dump custom-format archive, so only its size was checked
    backup:
      description: Name of the backup the file holds.
      type: str
      sample: b003
    sha256:
      description: SHA-256 of the file (hex).
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
requests:
  description: The write requests sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/client/v11/databases/6f3e1a52-0c1b-4b8a-9b59-0d7cbd1a5e10/backups",
            "body": null, "description": "capture a backup of DATABASE (postgresql-curved-12345)"}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.backups import BackupRequest, capture_backup, delete_backup
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(
        dict(
            database=dict(type="str", default="DATABASE_URL"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            id=dict(type="str"),
            confirm=dict(type="str"),
            max_age=dict(type="str"),
            url=dict(type="bool", default=False),
            return_secrets=dict(type="bool", default=False),
            dest=dict(type="path"),
            force=dict(type="bool", default=False),
        ),
        waits=True,
        required_if=[("state", "absent", ["id", "confirm"])],
        mutually_exclusive=[("id", "max_age")],
    )
    p = module.params
    if p["state"] == "absent" and (p["url"] or p["dest"] or p["max_age"]):
        module.fail_json(msg="url, dest and max_age apply to state=present only.")

    def operation(ctx):
        if p["state"] == "absent":
            return delete_backup(ctx, p["app"], p["id"], p["confirm"])
        request = BackupRequest(
            app=p["app"],
            database=p["database"],
            backup_id=p["id"],
            max_age=p["max_age"],
            url=p["url"],
            reveal=p["return_secrets"],
            dest=p["dest"],
            force_download=p["force"],
        )
        return capture_backup(ctx, request)

    module.run(operation, database=p["database"])


if __name__ == "__main__":
    main()
