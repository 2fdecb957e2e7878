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

# System packages the browser tests and translations need (Debian): chromium, gettext.
# Installed with apt when missing and we may (root); otherwise the tests that need them say why
# they are skipped.
ensure_system_tools() {
  local need=()
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
  # A CJK font, so Chinese pages render in the browser tests' screenshots.
  if command -v fc-list >/dev/null 2>&1; then
    fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
  fi
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${need[*]} with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2 || \
      echo "warning: could not install ${need[*]}; tests that need them will be skipped" >&2
  else
    echo "warning: ${need[*]} missing and not root; tests that need them will be skipped" >&2
  fi
}

# Compile the gettext catalogs (relaydesk/**/locale/*/LC_MESSAGES/*.po -> .mo) when they changed.
compile_messages() {
  command -v msgfmt >/dev/null 2>&1 || { echo "warning: msgfmt missing; pages stay in English" >&2; return 0; }
  local po mo
  for po in relaydesk/locale/*/LC_MESSAGES/*.po relaydesk/*/locale/*/LC_MESSAGES/*.po; do
    [ -f "$po" ] || continue
    mo="${po%.po}.mo"
    if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
      msgfmt --check-format -o "$mo" "$po"
    fi
  done
}
