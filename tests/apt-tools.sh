#!/bin/sh
# Install the Debian packages named as arguments whose command is missing, as root with apt-get (as
# in CI), quietly; otherwise say which tests or figures will be missing and go on.
# Usage: tests/apt-tools.sh COMMAND:PACKAGE:WHAT-IS-MISSED-WITHOUT-IT ...
set -u
for spec in "$@"; do
  command=${spec%%:*}
  rest=${spec#*:}
  package=${rest%%:*}
  missed=${rest#*:}
  command -v "$command" >/dev/null 2>&1 && continue
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$package" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$package" >/dev/null 2>&1; } \
      || echo "$package could not be installed: $missed"
  else
    echo "$command not found (Debian package $package): $missed"
  fi
done
