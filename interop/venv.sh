# Sourced by interop/run and scripts/bench-rekor: makes sure the repository's Python venv
# (.venv in the repo root, gitignored) exists and has interop/requirements.txt installed, then
# puts it first on PATH. Reinstalls only when requirements.txt changes.
# shellcheck shell=bash

waxseal_venv() {
  local root req stamp want
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  req="$root/interop/requirements.txt"
  stamp="$root/.venv/.requirements.sha256"
  if [ ! -x "$root/.venv/bin/python" ]; then
    echo "interop: creating $root/.venv" >&2
    python3 -m venv "$root/.venv"
  fi
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "interop: installing $req into .venv" >&2
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  export VIRTUAL_ENV="$root/.venv"
  export PATH="$root/.venv/bin:$PATH"
}

waxseal_venv
