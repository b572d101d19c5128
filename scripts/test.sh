#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, as root:
#  - installs the mail servers if missing (Dovecot and Postfix from Debian, Exim 4 and
#    Cyrus IMAP 3 unpacked into a private root: scripts/install-servers.sh);
#  - makes one venv per supported CPython (.venv-3.9 ... .venv-3.13, from pyenv) plus
#    .venv (python3), each with the package and its test extras (scripts/bootstrap.sh);
#  - runs ruff and mypy --strict once, the unit tests (-m "not integration") on every
#    supported CPython, and the integration tests against the real servers on
#    127.0.0.1 on the oldest and the newest.
# Steps run one after another with their output as it comes; a failing step does not
# stop the others, and the run ends with one line per step. Extra arguments go to every
# pytest run. Any failure fails the run, and so does a pytest run that ran no test
# (pytest's exit status 5).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHONS=(3.9 3.10 3.11 3.12 3.13)  # every CPython mailprobe supports
INTEGRATION_PYTHONS=(3.9 3.13)     # the oldest and the newest

bash scripts/install-servers.sh

results=()
failed=0
step() {  # step NAME COMMAND...: run it, time it, record the outcome
  local name="$1" rc=0 started=$SECONDS
  shift
  printf '\n===== %s =====\n' "$name"
  "$@" || rc=$?
  local took=$((SECONDS - started))
  if [ "$rc" -eq 0 ]; then
    results+=("$(printf 'ok      %4ds  %s' "$took" "$name")")
  else
    local why="exit status $rc"
    [ "$rc" -eq 5 ] && why="no test ran (pytest exit status 5)"
    results+=("$(printf 'FAILED  %4ds  %s: %s' "$took" "$name" "$why")")
    failed=1
  fi
  return 0
}

ready=()
for version in "" "${PYTHONS[@]}"; do
  label="venv ${version:-python3}"
  before=$failed
  step "$label" bash scripts/bootstrap.sh $version
  [ "$failed" -eq "$before" ] && ready+=("${version:-main}")
done
is_ready() { [[ " ${ready[*]} " == *" $1 "* ]]; }

if is_ready main; then
  step "ruff" .venv/bin/python -m ruff check src tests examples benchmarks
  step "mypy --strict" .venv/bin/python -m mypy --strict src tests/type_usage.py
fi
for version in "${PYTHONS[@]}"; do
  is_ready "$version" || continue
  python=".venv-$version/bin/python"
  step "unit tests, $($python -V 2>&1)" "$python" -m pytest -m "not integration" "$@"
done
for version in "${INTEGRATION_PYTHONS[@]}"; do
  is_ready "$version" || continue
  python=".venv-$version/bin/python"
  step "integration tests, $($python -V 2>&1)" "$python" -m pytest -m integration "$@"
done

printf '\n===== summary =====\n'
printf '%s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
  echo "some checks FAILED"
  exit 1
fi
echo "all checks passed"
