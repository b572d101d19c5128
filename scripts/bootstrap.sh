#!/usr/bin/env bash
# Create a virtualenv (if missing or broken) and install mailprobe into it, editable,
# with everything a contributor needs (the test, lint and docs extras, '.[dev]').
#
#   bash scripts/bootstrap.sh          .venv, from python3 (the demo and the checks use it)
#   bash scripts/bootstrap.sh 3.9      .venv-3.9, from pyenv's CPython 3.9.x
#                                      (PYENV_ROOT, default /root/.pyenv), or python3.9
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-}"
if [ -z "$version" ]; then
  venv=.venv
  base=python3
else
  venv=".venv-$version"
  pyenv_root="${PYENV_ROOT:-/root/.pyenv}"
  # The newest installed patch release of that minor version.
  base="$(ls -d "$pyenv_root/versions/$version".* 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$base" ] && [ -x "$base/bin/python" ]; then
    base="$base/bin/python"
  elif command -v "python$version" >/dev/null 2>&1; then
    base="python$version"
  else
    echo "bootstrap: no CPython $version (looked in $pyenv_root/versions and PATH)" >&2
    exit 1
  fi
fi

# A venv whose interpreter moved or was upgraded away is made again.
if [ -e "$venv" ] && ! "$venv/bin/python" -c "" >/dev/null 2>&1; then
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  "$base" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
