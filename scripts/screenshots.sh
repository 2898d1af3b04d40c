#!/usr/bin/env bash
# Runs the release binary's demo under Xvfb, drives it with xdotool through
# the main screens, and writes the screenshots the README shows.
#   scripts/screenshots.sh            # writes docs/screenshots/*.png
# Needs: xvfb, xdotool, imagemagick (installed with apt when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"

if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v import >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xdotool imagemagick
fi
cargo build --release --quiet

display=:97
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
cleanup() { kill "${app:-}" "$xvfb" 2>/dev/null || true; }
trap cleanup EXIT
sleep 1

./target/release/refboard demo --events 4000 >/dev/null 2>&1 &
app=$!
for _ in $(seq 1 60); do
    win=$(xdotool search --name "refboard demo" 2>/dev/null | head -1 || true)
    [ -n "$win" ] && break
    sleep 0.5
done
[ -n "${win:-}" ] || { echo "the demo window did not appear" >&2; exit 1; }
sleep 2
xdotool windowfocus --sync "$win"

shot() { sleep "${2:-1}"; import -window root "$out/$1.png"; echo "wrote $out/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; }

# Links, with the detail of one link and its QR preview.
click 464 12
click 398 168
shot links
# Export that code by typing a path (its default is the ref, in the last folder).
rm -f /tmp/refboard-screenshot-code.png
click 1128 568
xdotool key ctrl+a
xdotool type --delay 20 "/tmp/refboard-screenshot-code.png"
click 986 615
shot link-export
# New link form with an invalid ref: inline error, Save disabled.
click 260 44
sleep 1
click 568 389
xdotool key ctrl+a
xdotool type --delay 20 "free shipping"
shot new-link-form
xdotool key Escape
# Analytics by link (headline cards, chart, hover), a comparison of two
# links with the previous period, then new vs returning as stacked bars.
click 528 12
xdotool mousemove 424 300
shot analytics 2
click 137 44
sleep 1
click 15 197
click 305 197
sleep 1
click 300 242
click 300 265
click 900 197
shot analytics-compare 2
click 305 197
sleep 1
click 300 242
click 300 265
click 900 197
click 15 197
click 200 44
click 470 67
click 488 209
shot analytics-new-vs-returning 2
# Backend screen.
click 603 12
shot backend
