#!/usr/bin/env bash
# Refreshes the vendored IP data in data/ip/ from the latest @ip-location-db packages on the npm
# registry. This is the only step that touches the network; the build and every run are offline.
#
#   scripts/refresh-ip-data.sh            # latest versions
#   scripts/refresh-ip-data.sh 2.3.2026061719   # a given version of both packages
#
# Needs npm, tar and cargo. The packages are converted by repo code
# (crates/attribute/examples/build_ip_data.rs), which refuses a package whose licence changed
# from the one reviewed. Review `git diff data/ip/VERSION.toml` and run
# `cargo test -p phonehome-attribute --test ip` before committing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:-latest}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for pkg in geo-whois-asn-country asn; do
    mkdir -p "$work/$pkg"
    tarball="$(cd "$work" && npm pack --silent "@ip-location-db/$pkg@$version" 2>/dev/null | tail -n 1)"
    if [[ ! -f "$work/$tarball" ]]; then
        echo "refresh-ip-data: npm pack @ip-location-db/$pkg@$version failed" >&2
        exit 1
    fi
    tar -xzf "$work/$tarball" -C "$work/$pkg"
    echo "fetched @ip-location-db/$pkg: $tarball ($(du -h "$work/$tarball" | cut -f1))"
done

cd "$repo"
cargo run --quiet --release -p phonehome-attribute --example build_ip_data -- \
    --country "$work/geo-whois-asn-country/package" \
    --asn "$work/asn/package" \
    --out "$repo/data/ip"
ls -l "$repo/data/ip"
