#!/usr/bin/env bash
# Fail when notebooks are not clean (or carry outputs where they should not, or machine paths in outputs), when heartai/
# is not what the notebooks export, when README.md is stale, or when settings.ini disagrees with pyproject.toml.
# Usage: tools/check_sync.sh [BIN_DIR]   (BIN_DIR holds nbdev-export and python; default .venv/bin)
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.venv/bin}"
fail=0
# checksum of every tracked or untracked-but-not-ignored file: a change shows as a changed line
state() { git ls-files -co --exclude-standard -z | xargs -0 md5sum 2>/dev/null | sort -k2; }

# outputs: API notebooks none, tutorials/index no machine paths (checked before cleaning, which would hide the first)
if ! msg=$("$bin/python" tools/clean_nbs.py --check); then echo "$msg"; fail=1; fi

before=$(state)
"$bin/python" tools/clean_nbs.py || { echo "FAIL: tools/clean_nbs.py (nbdev-clean) crashed"; exit 1; }
after=$(state)
if [ "$before" != "$after" ]; then
  echo "FAIL: notebooks were not clean (outputs or metadata left in them)."
  echo "      Run \`python tools/clean_nbs.py\` (or \`make export\`) and commit the notebooks. Changed:"
  diff <(echo "$before") <(echo "$after") | sed -n 's/^> [0-9a-f]*  /        /p' | sort -u
  fail=1
fi

before=$(state)
"$bin/nbdev-export" || { echo "FAIL: nbdev-export crashed"; exit 1; }
after=$(state)
if [ "$before" != "$after" ]; then
  echo "FAIL: heartai/ is out of sync with the notebooks in nbs/: a module was edited by hand, or a notebook was not exported."
  echo "      Edit the notebook (never heartai/*.py), run \`nbdev-export\` (or \`make export\`) and commit both. Changed:"
  diff <(echo "$before") <(echo "$after") | sed -n 's/^> [0-9a-f]*  /        /p' | sort -u
  fail=1
fi

"$bin/python" tools/make_readme.py --check || fail=1
"$bin/python" tools/make_settings.py --check || fail=1
[ $fail = 0 ] && echo "OK: notebooks clean (outputs only in tutorials and index, no machine paths), heartai/ exported from them, README.md and settings.ini up to date"
exit $fail
