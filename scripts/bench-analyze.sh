#!/usr/bin/env bash
# Measures `phonehome analyze` on a generated capture (default 1 GiB) and, when tshark is
# installed, tshark listing the HTTP requests of the same file. Prints wall time, MB/s and peak
# memory. Usage: scripts/bench-analyze.sh [SIZE]   (SIZE like 256M, 1G; default 1G)
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1G}"
file="bench-data/bench-${size}.pcap"
cargo build --release --bin phonehome --bin phonehome-synth
mkdir -p bench-data
[ -f "$file" ] || ./target/release/phonehome-synth bench --size "$size" --out "$file"
bytes=$(stat -c %s "$file")
echo "== phonehome analyze ($bytes bytes)"
./target/release/phonehome analyze --stats --device samples/phone.toml --format jsonl -o /dev/null "$file"
if command -v tshark >/dev/null && [ -x /usr/bin/time ]; then
  echo "== tshark -Y http.request (same file)"
  /usr/bin/time -f "tshark: %e s wall, peak memory %M KiB" \
    tshark -r "$file" -Y http.request -T fields -e frame.number -e http.host -e http.request.uri >/dev/null
else
  echo "(tshark or /usr/bin/time not installed: apt-get install tshark time to compare)"
fi
