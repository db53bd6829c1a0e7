#!/usr/bin/env bash
# ansible-test integration on a copy of the collection, on this machine (--local, no containers):
# every target under tests/integration/targets, each against a sandbox of its own that its
# setup_heroku_sandbox dependency starts and its `always:` stops.
#
# The modules import the herokupg core, which is not part of the collection: as run-units.sh does,
# run ansible-test with --local on our own virtualenv (make venv installed herokupg with its sandbox,
# and ansible-core). integration_config.yml (ansible-test passes it to every target) names this
# virtualenv's herokupg entry point and a root for the sandboxes' state directories, which is
# swept afterwards: a sandbox still running there is stopped and fails the run.
# Without arguments, two ansible-test processes run side by side, each on a copy of its own: the
# targets with the alias shippable/posix/group1, and all the others. With arguments (e.g. a target
# name), one ansible-test runs with them.
# VENV and PYTHON_VERSION as in run-sanity.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../../.venv}
venv=$(cd "$venv" && pwd)
python="$venv/bin/python"
work=$(mktemp -d)
# Not under $work (0700): the postgres engine's servers run as the postgres user and must enter it.
sandboxes=$(mktemp -d /var/tmp/herokupg-ansible-test-XXXXXX)
chmod 0755 "$sandboxes"
sweep() {
  local status=$? left=0 pid
  for pid in "$sandboxes"/*/sandbox/sandbox.pid; do
    [ -e "$pid" ] || continue
    echo "run-integration: a sandbox was left running in ${pid%/sandbox.pid}: stopping it" >&2
    "$venv/bin/herokupg" sandbox stop --state-dir "${pid%/sandbox.pid}" >&2 || true
    left=1
  done
  rm -rf "$work" "$sandboxes"
  [ "$left" = 0 ] || status=1
  exit "$status"
}
trap sweep EXIT
# ansible-test integration --local in a fresh copy of the collection (directory $1), with $2...
run() {
  local target
  target=$("$here/collection-copy.sh" "$work/$1")
  printf 'heroku_sandbox_cli: %s\nheroku_sandbox_root: %s\n' "$venv/bin/herokupg" "$sandboxes" \
    > "$target/tests/integration/integration_config.yml"
  shift
  (cd "$target" && PATH="$venv/bin:$PATH" ansible-test integration --local --python-interpreter "$python" \
    --python "${PYTHON_VERSION:-3.11}" "$@")
}
if [ $# -gt 0 ]; then
  run all "$@"
  exit
fi
run group1 shippable/posix/group1/ > "$work/group1.log" 2>&1 &
group1=$!
others=0
run others --exclude shippable/posix/group1/ || others=$?
grouped=0
wait "$group1" || grouped=$?
echo "--- shippable/posix/group1 (run beside the above) ---"
cat "$work/group1.log"
[ "$others" = 0 ] && [ "$grouped" = 0 ]
