#!/usr/bin/env bash
# Installs the inputs of the TokLIP-Tiny v2 data builder (`--profile v2`) that scripts/setup.sh
# deliberately leaves out, so CI and `scripts/start.sh` stay as fast as today:
#   * the npm data packages (emoji, icons, flags) pinned in models/datapkgs/package-lock.json, into
#     models/datapkgs/node_modules only; they are never dependencies of the app;
#   * with --apt: the Debian package wordnet-base (WordNet 3.0 database files);
#   * with --pip: the SVG rasteriser resvg-py into the project venv (.venv).
# Safe to re-run: `npm ci` reinstalls exactly the locked versions.
set -euo pipefail
cd "$(dirname "$0")/.."

want_apt=0
want_pip=0
for arg in "$@"; do
  case "$arg" in
    --apt) want_apt=1 ;;
    --pip) want_pip=1 ;;
    --all) want_apt=1; want_pip=1 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (use --apt, --pip, --all)" >&2; exit 2 ;;
  esac
done

echo "== npm ci --prefix models/datapkgs --ignore-scripts"
# --ignore-scripts: these are data packages; nothing in them needs to run.
npm ci --prefix models/datapkgs --ignore-scripts --no-audit --no-fund

if [ "$want_apt" = 1 ] && ! dpkg -s wordnet-base >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "== apt-get install wordnet-base"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wordnet-base >/dev/null
fi

if [ "$want_pip" = 1 ]; then
  py=.venv/bin/python
  [ -x "$py" ] || { echo "ERROR: $py missing; run scripts/setup.sh first" >&2; exit 1; }
  echo "== pip install resvg-py (version pinned in models/pyproject.toml, extra data-v2)"
  "$py" -m pip install -q "resvg-py==0.5.0"
fi
echo "data packages ready: models/datapkgs/node_modules"
