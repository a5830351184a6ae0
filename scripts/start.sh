#!/usr/bin/env bash
# Starts TokLIP Studio on the bundled TokLIP-Tiny model at http://127.0.0.1:5173/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
exec npm run dev
