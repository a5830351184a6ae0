#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12/13 machine: installs what is missing
# (scripts/setup.sh; with CI=true a Debian package it cannot install fails the run), builds the datasets
# (Debian packages; v2: npm data packages too), then the Python suite, a smoke run of the whole training recipe on real
# Debian data, the check that the committed model's metrics reproduce, and the app's lint,
# typecheck, Vitest units and Playwright e2e (WASM and WebGPU) in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
PY=.venv/bin/python
step() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

step "setup"
bash scripts/setup.sh

step "python: dataset from Debian packages (models/data)"
# Before pytest: the golden freshness test regenerates e2e/fixtures/toklip-tiny from it.
[ -f models/data/pairs.jsonl ] || $PY -m toklip.data.build --out models/data

step "python: pytest models"
$PY -m pytest models -q

step "python: smoke training + export + eval on a small real-data build"
smoke=$(mktemp -d)
trap 'rm -rf "$smoke"' EXIT
$PY -m toklip.data.build --out "$smoke/data" --limit 40
$PY -m toklip.data.build --profile v2 --out "$smoke/data-v2" --limit 15
$PY -m toklip.train_v2 --data "$smoke/data" --data-v2 "$smoke/data-v2" --out "$smoke/run" --smoke
$PY -m toklip.export --checkpoint "$smoke/run/final.pt" --data "$smoke/data" --data-v2 "$smoke/data-v2" --out "$smoke/bundle"
$PY -m toklip.evaluate --bundle "$smoke/bundle" --data "$smoke/data" --data-v2 "$smoke/data-v2"
$PY -m toklip.samples --data "$smoke/data" --data-v2 "$smoke/data-v2" --bundle "$smoke/bundle"

step "python: v2 dataset from npm and Debian packages (models/data-v2)"
# TokLIP-Tiny v2 is evaluated on held-out items of both folders (~2.5 min on 2 cores: every SVG is rendered, since
# pixel-identical renders are deduplicated across splits).
[ -f models/data-v2/pairs.jsonl ] || $PY -m toklip.data.build --profile v2 --out models/data-v2

step "python: committed TokLIP-Tiny metrics reproduce"
$PY -m toklip.evaluate --bundle public/models/toklip-tiny --data models/data --data-v2 models/data-v2 --check

step "python: shallow official-layout model folders for the app's e2e (gitignored)"
rm -rf public/models/synthetic-official-* && $PY -m toklip.synthetic_official --depth shallow --out "$(mktemp -d)" --export public/models --id synthetic-official --dtype fp32 int8 fp16 q4

step "python: official preprocessing corpus for Vitest (models/.cache/preprocess-corpus, gitignored)"
$PY -m toklip.preprocess_corpus

step "app: lint, typecheck, unit, e2e"
npm test
