#!/usr/bin/env bash
# Drives the Setup screen under Xvfb from red to green against the Graph API
# stand-in in scripts/graph-standin.py, and writes
# docs/screenshots/setup-{red,fix,green}.png (the README shows them).
#   scripts/setup-screenshots.sh                       # the release binary
#   BIN=target/debug/refboard scripts/setup-screenshots.sh
# Needs: xvfb, xdotool, imagemagick, python3. Coordinates fit 1280×800.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/refboard}
out=docs/screenshots
work=$(mktemp -d)
port=18377
display=:97
export REFBOARD_SECRET_STORE=file DISPLAY=$display

python3 scripts/graph-standin.py "$port" & standin=$!
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
cleanup() { kill "${app:-}" "$standin" "$xvfb" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
sleep 1

db=$work/setup.db
"$bin" --db "$db" page add JaspersMarket --name "Jasper's Market" --page-id 104729178032417 >/dev/null
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO settings(key,value) VALUES('backend_url',?)\", (sys.argv[2],)); c.commit()" \
    "$db" "http://127.0.0.1:$port"
echo EAAscreenshotToken | "$bin" --db "$db" doctor --save-token --graph-url "http://127.0.0.1:$port" >/dev/null || true

"$bin" --db "$db" >/dev/null 2>&1 & app=$!
sleep 6
shot() { sleep "${2:-3}"; import -window root "$out/$1.png"; echo "wrote $out/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; }
click 668 12; sleep 1      # Setup
click 47 122               # Run checks
shot setup-red
click 70 274               # Fix Webhook fields
shot setup-fix 1
click 36 215; sleep 3      # Send
click 80 334; sleep 1      # Fix Get Started button
click 36 215               # Send
shot setup-green
