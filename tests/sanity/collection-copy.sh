#!/usr/bin/env bash
# Copy the collection (git-tracked and untracked-but-not-ignored files, minus what a built
# collection leaves out and the clone's ansible.cfg and collections/, a symlink back to itself) to
# DEST/ansible_collections/herokuops/postgres and print that path.
# ansible-test must run from inside such a tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:?usage: collection-copy.sh DEST}
target="$dest/ansible_collections/herokuops/postgres"
rm -rf "$target"
mkdir -p "$target"
cd "$root"
git ls-files --cached --others --exclude-standard -z \
  | grep -zv -e '^pycore/' -e '^\.ci/' -e '^Makefile$' -e '^collections/' -e '^ansible\.cfg$' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 cp --parents -t "$target"
# ansible-test only looks at files git knows: make the copy its own repository.
git -C "$target" init -q
git -C "$target" add -A
echo "$target"
