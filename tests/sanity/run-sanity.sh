#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, offline: seeds ansible-test's get-pip cache
# with our stand-in, then runs every sanity test with no ignore file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../../.venv}
venv=$(cd "$venv" && pwd)
# ansible-core 2.19's ansible-test bootstraps pip 24.2 (python_requirements.get_venv_packages).
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$here/get_pip_standin.py" "$cache/get_pip_24_2.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=$("$here/collection-copy.sh" "$work")
cd "$target"
PATH="$venv/bin:$PATH" ansible-test sanity --venv --python 3.11 "$@"
