#!/usr/bin/env bash
# Renders the bundled sample as an HTML report and screenshots it with headless Chromium for the
# README (docs/images/sample-report.png). Needs `chromium` (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sample-report.html
cargo run -q --release --bin phonehome -- analyze --device samples/phone.toml \
  --watch CN --format html -o "$out" samples/sample.pcapng
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size=1280,1800 --screenshot=docs/images/sample-report.png "file://$PWD/$out" 2>/dev/null
rm -rf "$profile"
echo "wrote docs/images/sample-report.png"
