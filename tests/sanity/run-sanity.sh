#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, offline: seeds ansible-test's get-pip cache
# with our stand-in, then runs every sanity test with no ignore file.
# VENV: the virtualenv whose ansible-test runs (default .venv); PYTHON_VERSION: the Python the
# tests run with (default 3.11; make test-matrix sets both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../../.venv}
venv=$(cd "$venv" && pwd)
python_version=${PYTHON_VERSION:-3.11}
# ansible-test bootstraps the pip its python_requirements.get_venv_packages names (ansible-core
# 2.19: 24.2) with a script it would download: seed every version this ansible-test may ask for.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
requirements=$("$venv/bin/python" -c 'import ansible_test, pathlib; print(pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py")')
for version in $(grep -o "pip='[0-9.]*'" "$requirements" | tr -dc '0-9.\n' | sort -u); do
  cp "$here/get_pip_standin.py" "$cache/get_pip_${version//./_}.py"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=$("$here/collection-copy.sh" "$work")
cd "$target"
PATH="$venv/bin:$PATH" ansible-test sanity --venv --python "$python_version" "$@"
