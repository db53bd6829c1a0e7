#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heroku_app_maintenance
short_description: Turn a Heroku app's maintenance mode on or off
version_added: "0.2.0"
description:
  - Makes the maintenance mode of a Heroku app match O(enabled), as C(heroku maintenance:on) and
    C(heroku maintenance:off) do. In maintenance mode Heroku's router answers every web request with
    a maintenance page (HTTP 503); worker, scheduler and one-off dynos keep running, and clients that
    connect to the database directly are not stopped.
  - The flag is read first (C(GET /apps/{app})) and changed (C(PATCH /apps/{app})) only when it
    differs, so a rerun changes nothing.
  - Named for the app, not the database - Heroku Postgres' own database maintenance (C(heroku
    data:maintenances)) is another thing, which this module does not touch.
options:
  enabled:
    description:
      - Whether the app should be in maintenance mode.
    type: bool
    required: true
extends_documentation_fragment:
  - herokuops.postgres.heroku
  - herokuops.postgres.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The maintenance flag before and after.
seealso:
  - module: herokuops.postgres.heroku_pg_promote
  - name: Heroku maintenance mode
    description: What the router does in maintenance mode.
    link: https://devcenter.heroku.com/articles/maintenance-mode
author:
  - herokuops.postgres maintainers (@herokuops)
"""

EXAMPLES = r"""
- name: Put myapp in maintenance mode
  herokuops.postgres.heroku_app_maintenance:
    app: myapp
    enabled: true
  register: maintenance

- name: Take it out again, unless it was on before
  herokuops.postgres.heroku_app_maintenance:
    app: myapp
    enabled: false
  when: not maintenance.previous
"""

RETURN = r"""
maintenance:
  description: Whether the app is in maintenance mode now (in check mode, would be).
  returned: always
  type: bool
  sample: true
previous:
  description: Whether the app was in maintenance mode before this task.
  returned: always
  type: bool
  sample: false
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: "Turned maintenance mode of myapp on (it was off)."
requests:
  description: The write requests sent (in check mode, that would be sent), without credentials.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "PATCH", "path": "/apps/myapp", "body": {"maintenance": true},
            "description": "Turn maintenance mode on"}]
"""

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule

try:
    from herokupg.ops.maintenance import ensure_maintenance
except ImportError:
    pass  # HerokuModule reports the missing library


def main():
    module = HerokuModule(dict(enabled=dict(type="bool", required=True)))
    params = module.params
    module.run(lambda ctx: ensure_maintenance(ctx, params["app"], enabled=params["enabled"]))


if __name__ == "__main__":
    main()
