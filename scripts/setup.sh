#!/usr/bin/env bash
# Installs what the app and the tests need on a fresh Debian 12/13 machine: Debian's Chromium,
# the Debian packages the training data comes from, the Python venv (.venv) with the CPU build of
# PyTorch, and the npm packages. Safe to re-run; each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# The last four: natural textures of the TokLIP-Tiny v2 data (toklip.data.sources_v2.TEXTURE_PACKAGES), about
# 102 MB of .debs (scorched3d-data 32, extremetuxracer-data 41, colobot-common-textures 28, xplanet-images 0.4).
DATA_PKGS="gcompris-qt-data lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers fonts-noto-color-emoji unicode-data unicode-cldr-core tuxpaint-stamps-default wordnet-base scorched3d-data extremetuxracer-data colobot-common-textures xplanet-images"
# Data packages whose absence on a supported release is expected, so a failed install is a note, not a CI error.
# The others exist in Debian 12 (apt-cache policy) and in Debian 13's archive. The texture packages are here
# because they were checked on Debian 12 only (no Debian 13 archive reachable when they were added): move a
# name out once `apt-cache policy NAME` on Debian 13 shows a candidate. The v2 builder skips a missing one loudly.
OPTIONAL_DATA_PKGS="scorched3d-data extremetuxracer-data colobot-common-textures xplanet-images"
# With CI=true a package that cannot be installed fails the run: the tests that need it would only skip.
case "${CI:-}" in true | TRUE | True | 1 | yes) strict=1 ;; *) strict=0 ;; esac
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ "${TOKLIP_SKIP_DATA_PKGS:-0}" != 1 ]; then
  for p in $DATA_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p"); done
elif [ "$strict" = 1 ]; then
  echo "WARNING: TOKLIP_SKIP_DATA_PKGS=1 with CI=true: the data tests will fail, not skip" >&2
fi
failed=()
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "== apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  for p in "${need_apt[@]}"; do
    # One at a time: a package missing on this Debian release must not block the others.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null && continue
    if [[ " $OPTIONAL_DATA_PKGS " == *" $p "* ]]; then
      echo "NOTE: $p is not in this Debian release (listed optional); the data build will skip it" >&2
    elif [ "$strict" = 1 ]; then
      echo "ERROR: apt-get could not install $p" >&2
      failed+=("$p")
    else
      echo "WARNING: apt-get could not install $p; the data build and the tests that need it will skip it" >&2
    fi
  done
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "ERROR: CI=true and these Debian packages could not be installed: ${failed[*]}" >&2
  echo "       (apt-cache policy ${failed[*]}; a package this release lacks goes into OPTIONAL_DATA_PKGS)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import toklip, torch, ftfy, importlib.util as u; assert u.find_spec('torchvision') and u.find_spec('resvg_py') and u.find_spec('open_clip') and u.find_spec('onnx_ir')" 2>/dev/null; then
  echo "== Python venv (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  # Pinned: torch==2.13.0 is the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
  .venv/bin/pip install -q torch==2.13.0
  # data-v2: the SVG rasteriser of the TokLIP-Tiny v2 data sources (one small wheel), so its tests run.
  .venv/bin/pip install -q -e 'models[test,official,data-v2]'
  # torchvision only as the reference for the official preprocessing tests (toklip.tv_reference). --no-deps: its
  # declared torch requirement would otherwise replace the pinned CPU wheel.
  .venv/bin/pip install -q --no-deps torchvision==0.28.0
  # open_clip_torch only for its zero-shot metadata (ImageNet class names, CLIP templates): toklip.labelsets and its
  # test read that one file; --no-deps keeps its torch/timm requirements out.
  .venv/bin/pip install -q --no-deps open_clip_torch==3.3.0
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

# The TokLIP-Tiny v2 data builder's npm packages (emoji styles, icons, flags), in their own folder: never the
# app's dependencies, so scripts/start.sh does not install them. The tests of their readers need them.
if [ ! -d models/datapkgs/node_modules ] || [ models/datapkgs/package-lock.json -nt models/datapkgs/node_modules/.package-lock.json ]; then
  echo "== npm ci --prefix models/datapkgs (TokLIP-Tiny v2 data sources)"
  npm ci --prefix models/datapkgs --ignore-scripts --no-audit --no-fund
fi
