"""Offline stand-in for the get-pip.py script ansible-test downloads (we cannot reach its host).

ansible-test runs this file with pip's install options. Bootstrap pip from the interpreter's own
ensurepip wheel, then install what was asked with that pip. ensurepip points PIP_CONFIG_FILE at
/dev/null inside this process, which would hide the machine's pip configuration (its CA bundle and
package mirrors), so the follow-up pip call runs without that variable.
"""

import ensurepip
import os
import subprocess
import sys

BOOTSTRAP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in BOOTSTRAP_ONLY]
if args:
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
