#!/usr/bin/env bash
# `make test-matrix`: every ansible-core minor the collection supports (meta/runtime.yml), on each
# Python this machine has that the release supports as a controller. Per cell, in its own
# virtualenv (.cache/matrix/core<X>-py<Y>: that ansible-core, herokupg from ./pycore with its postgres extra (as meta/requirements.txt), the sandbox, pytest):
#   sanity  ansible-test sanity, every test, no ignore file (run-sanity.sh), on the Pythons of
#           $SANITY_ON only (default 3.11: its first run on a Python costs minutes of set-up)
#   units   ansible-test units (run-units.sh)
#   smoke   ansible-test integration targets against the sandbox (run-integration.sh $SMOKE)
# Offline like make sanity (the get-pip stand-in). Prints a table; exits 1 if a cell failed.
#
#   MATRIX="2.16:3.11 2.19:3.13"  the cells (default: all below)
#   SANITY_ON="3.11 3.12"         the Pythons sanity runs on
#   SMOKE="heroku_pg_info ..."   the ansible-test integration targets of the smoke
#   MATRIX_DIR                    where the virtualenvs and logs go (default .cache/matrix)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/sanity
# ansible-core controller Pythons (its setup metadata), from 3.11: herokupg's own minimum.
matrix=${MATRIX:-"2.16:3.11 2.16:3.12 2.17:3.11 2.17:3.12 2.18:3.11 2.18:3.12 2.18:3.13 2.19:3.11 2.19:3.12 2.19:3.13"}
sanity_on=" ${SANITY_ON:-3.11} "
smoke=${SMOKE:-"heroku_pg_database heroku_pg_info"}
dir=${MATRIX_DIR:-$root/.cache/matrix}
mkdir -p "$dir"

# A python3.Y interpreter: on PATH (not a pyenv shim, which may refuse), else under pyenv's root.
find_python() {
  local version=$1 candidate
  for candidate in "$(command -v "python$version" 2>/dev/null)" \
                   "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# One step of a cell: its output goes to a log, its result and seconds into the row.
step() {
  local log=$1; shift
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "ok ($((SECONDS - start)) s)"
  else
    echo "FAILED ($((SECONDS - start)) s, $log)"
  fi
}

rows=()
failed=0
total_start=$SECONDS
for cell in $matrix; do
  core=${cell%%:*}
  py=${cell##*:}
  name="core$core-py$py"
  venv=$dir/$name
  python=$(find_python "$py") || {
    rows+=("| $core | $py | no python$py on this machine | | |")
    continue
  }
  echo "== ansible-core $core, Python $py ($python)"
  if ! { [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"; } \
     || ! "$venv/bin/python" -m pip install -q --upgrade pip >"$dir/$name.install.log" 2>&1 \
     || ! "$venv/bin/python" -m pip install -q "ansible-core==$core.*" -e "$root/pycore[postgres]" -e "$root/pycore/sandbox" \
          -r "$root/tests/unit/requirements.txt" pytest pytest-timeout pyyaml >>"$dir/$name.install.log" 2>&1; then
    rows+=("| $core | $py | install FAILED ($dir/$name.install.log) | | |")
    failed=1
    continue
  fi
  version=$("$venv/bin/ansible" --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p')
  sanity="not run (SANITY_ON)"
  if [[ $sanity_on == *" $py "* ]]; then
    sanity=$(VENV=$venv PYTHON_VERSION=$py step "$dir/$name.sanity.log" "$here/run-sanity.sh")
  fi
  units=$(VENV=$venv PYTHON_VERSION=$py step "$dir/$name.units.log" "$here/run-units.sh")
  # shellcheck disable=SC2086  # $smoke is a list of targets
  smoked=$(VENV=$venv PYTHON_VERSION=$py step "$dir/$name.smoke.log" "$here/run-integration.sh" $smoke)
  rows+=("| $version | $("$venv/bin/python" -c 'import platform; print(platform.python_version())') | $sanity | $units | $smoked |")
  case "$sanity $units $smoked" in *FAILED*) failed=1 ;; esac
done

echo
echo "make test-matrix, $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - total_start)) s in all:"
echo
echo "| ansible-core | Python | sanity | units | module smoke |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
exit $failed
