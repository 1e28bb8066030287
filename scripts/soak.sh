#!/usr/bin/env bash
# Soak test: runs the release daemon for MINUTES against a chaotic server on
# 127.0.0.1 (latency, 500/429/503, cut bodies, growing feeds) and reports
# requests, articles, feed states, peak RSS, and anything lost or duplicated.
# Usage: scripts/soak.sh MINUTES [FEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/soak.sh MINUTES [FEEDS]}
feeds=${2:-200}
cargo build --release --locked --bin gleaner --example chaos_soak
exec target/release/examples/chaos_soak "$minutes" "$feeds" target/release/gleaner
