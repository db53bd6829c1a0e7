#!/usr/bin/env bash
# ansible-test units on a copy of the collection, offline.
#
# The unit tests import the herokupg core, which is not part of the collection. ansible-test
# passes almost no environment variables to pytest, so rather than pointing it at herokupg, run
# it with --local on our own virtualenv (where `make venv` installed herokupg, ansible-core,
# pytest and tests/unit/requirements.txt): nothing to download, nothing to build.
# VENV and PYTHON_VERSION as in run-sanity.sh (make test-matrix sets them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../../.venv}
venv=$(cd "$venv" && pwd)
python="$venv/bin/python"
if ! "$python" -c 'import herokupg, xdist' 2>/dev/null; then
  "$python" -m pip install -q -r "$here/../unit/requirements.txt"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=$("$here/collection-copy.sh" "$work")
cd "$target"
PATH="$venv/bin:$PATH" ansible-test units --local --python-interpreter "$python" --python "${PYTHON_VERSION:-3.11}" "$@"
