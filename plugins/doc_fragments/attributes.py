# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes of modules that change state.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Every read is done and C(changed) is predicted exactly; nothing is written, and the
      requests that would be sent are returned.
  diff_mode:
    description: Returns the managed fields before and after the change.
  action_group:
    description: Use C(group/herokuops.postgres.heroku) in C(module_defaults) to set connection options.
    support: full
    membership:
      - herokuops.postgres.heroku
"""

    # Attributes of read-only (_info) modules.
    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the same data as without it.
    support: full
    details: This module only reads.
  diff_mode:
    description: Would return details on what has changed, but this module changes nothing.
    support: N/A
    details: This module only reads.
  action_group:
    description: Use C(group/herokuops.postgres.heroku) in C(module_defaults) to set connection options.
    support: full
    membership:
      - herokuops.postgres.heroku
"""
