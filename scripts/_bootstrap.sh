# Sourced by scripts/demo and scripts/test: find Python >= 3.12, create .venv, install.
# Usage: bootstrap [extra]   (extra = "test" installs the test tools too)
set -euo pipefail

find_python() {
  local c
  for c in "${RELAYDESK_PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  # pyenv installs (this machine kind ships several under /root/.pyenv/versions)
  for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python /root/.pyenv/versions/3.1[2-9]*/bin/python /usr/local/bin/python3.1[2-9]; do
    if [ -x "$c" ] && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}

bootstrap() {
  local extra="${1:-}"
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$root"
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    local py
    if ! py="$(find_python)"; then
      echo "RelayDesk needs Python >= 3.12 (Django 6). Install one, or set RELAYDESK_PYTHON=/path/to/python3.12." >&2
      exit 1
    fi
    echo "==> creating .venv with $py" >&2
    rm -rf .venv
    "$py" -m venv .venv
  fi
  local spec="."
  [ "$extra" = "test" ] && spec=".[test]"
  local stamp=".venv/.installed-$extra"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    echo "==> installing RelayDesk${extra:+ with $extra tools} (pinned by constraints.txt)" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e "$spec" >&2
    touch "$stamp"
  fi
}
