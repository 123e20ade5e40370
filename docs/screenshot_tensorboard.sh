#!/usr/bin/env bash
# Screenshot TensorBoard showing a real run, with headless Chromium (Debian's
# `chromium` package: apt-get install chromium). Made docs/images/tensorboard*.png:
#
#   docs/screenshot_tensorboard.sh RUN_DIR docs/images/tensorboard.png '#timeseries'
#
# Starts TensorBoard on 127.0.0.1 (a free port), waits for it, takes the
# screenshot, and stops the server it started.
set -euo pipefail
run_dir=$1
out=${2:-docs/images/tensorboard.png}
page=${3:-#timeseries}
root=$(cd "$(dirname "$0")/.." && pwd)
port=$("$root/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$root/.venv/bin/tensorboard" --logdir "$run_dir" --host 127.0.0.1 --port "$port" >/dev/null 2>&1 &
tensorboard=$!
profile=$(mktemp -d)
trap 'kill "$tensorboard" 2>/dev/null; rm -rf "$profile"' EXIT
for _ in $(seq 90); do
  curl -sf "http://127.0.0.1:$port/data/runs" >/dev/null && break
  sleep 1
done
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1400,1100 \
  --virtual-time-budget=30000 --screenshot="$out" "http://127.0.0.1:$port/$page"
echo "wrote $out"
