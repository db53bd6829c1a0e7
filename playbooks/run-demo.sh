#!/usr/bin/env bash
# `make demo`: walk the Heroku Postgres guide against a fresh local sandbox whose databases are
# real PostgreSQL servers, and check every step. Exits non-zero when a step or a check fails.
#
#   1. stops a sandbox left in the state dir by an earlier run, wipes the dir
#   2. starts the sandbox (postgres engine) on a free port of 127.0.0.1
#   3. playbooks/demo-setup.yml: app + standard-0 primary + sample data
#   4. playbooks/demo.yml: followers, forks, slow queries, backups, restores, promotion
#   5. stops the sandbox, always (even on failure or Ctrl-C)
#
# Environment: VENV (default .venv), DEMO_STATE_DIR (default .cache/demo; the postgres user must
# be able to reach it), DEMO_PORT (default: a free port), DEMO_APP (default herokupg-demo),
# ANSIBLE_COLLECTIONS_PATH (default: the checkout's collections/, where herokuops.postgres is a link to it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(cd "$root" && mkdir -p "${VENV:-.venv}" && cd "${VENV:-.venv}" && pwd)
state=${DEMO_STATE_DIR:-$root/.cache/demo}
mkdir -p "$state"
state=$(cd "$state" && pwd)  # absolute: the postgres engine's servers run elsewhere
app=${DEMO_APP:-herokupg-demo}
herokupg=$venv/bin/herokupg
python=$venv/bin/python

collections=${ANSIBLE_COLLECTIONS_PATH:-$root/collections}

# Stop what an earlier run left: the sandbox, then any PostgreSQL server under the state dir.
stop_everything() {
  "$herokupg" sandbox stop --state-dir "$state" >/dev/null 2>&1 || true
  local pidfile
  for pidfile in "$state"/clusters/*/data/postmaster.pid; do
    [ -e "$pidfile" ] || continue
    local data bindir
    data=$(dirname "$pidfile")
    bindir=/usr/lib/postgresql/$(cat "$data/PG_VERSION")/bin
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    else
      "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
}

stop_everything
rm -rf "$state"
mkdir -p "$state/work"
chmod 755 "$state"
chmod 700 "$state/work"

trap 'stop_everything; echo "demo: sandbox stopped"' EXIT

port=${DEMO_PORT:-$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
echo "demo: starting the sandbox (state in $state)"
"$herokupg" sandbox start --state-dir "$state" --port "$port" --engine postgres
eval "$("$herokupg" sandbox env --state-dir "$state")"
export HEROKU_API_URL HEROKU_API_KEY
unset HEROKU_DATA_API_URL

export ANSIBLE_COLLECTIONS_PATH=$collections
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}

playbook() {
  "$venv/bin/ansible-playbook" -i localhost, -c local \
    -e ansible_python_interpreter="$python" -e app="$app" \
    -e demo_service_file="$state/work/pg_service.conf" -e demo_work_dir="$state/work" \
    "$@"
}

start=$SECONDS
playbook "$root/playbooks/demo-setup.yml"
playbook "$root/playbooks/demo.yml"
echo "demo: every step passed in $((SECONDS - start)) s"
