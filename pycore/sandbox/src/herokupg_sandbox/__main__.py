"""``python -m herokupg_sandbox``: the ``herokupg-sandbox`` command."""

import sys

from herokupg_sandbox.cli import main

sys.exit(main())
