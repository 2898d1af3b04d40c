#!/usr/bin/env bash
# Renders the README's example campaign (Jasper's Market, Spring Sale) as
# grid, label and flyer PDFs (and a flyer with the example logo), and the first page of each to PNG with
# poppler's pdftoppm, into docs/screenshots/.
# Usage: scripts/print-screenshots.sh [path/to/refboard]   (default: target/release/refboard)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/refboard}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export REFBOARD_DB="$work/demo.db"
"$bin" page add https://www.facebook.com/JaspersMarket/ --name "Jasper's Market" --page-id 104729178032417 >/dev/null
"$bin" channel add Newsletter --kind email >/dev/null
"$bin" channel add "FB ad" --kind facebook_ad >/dev/null
"$bin" channel add Flyer --kind flyer >/dev/null
"$bin" campaign add "Spring Sale" --starts 2026-03-01 --ends 2026-03-31 >/dev/null
"$bin" link add --campaign "Spring Sale" --channel Newsletter --cta "Get free coupon in Messenger" >/dev/null
"$bin" link add --campaign "Spring Sale" --channel "FB ad" --ref jaspersmarketFBad --cta "Get 10% off your first order" >/dev/null
"$bin" link add --campaign "Spring Sale" --channel Flyer --ref freeshipping --cta "Free shipping on spring orders: just say hi" >/dev/null
for layout in grid labels flyer; do
  "$bin" export --campaign "Spring Sale" --dir "$work/$layout" --format png --size 256 \
    --sheet pdf --layout "$layout" --cut-marks >/dev/null
  pdftoppm -r 60 -png -f 1 -l 1 -singlefile "$work/$layout/sheet.pdf" "docs/screenshots/print-$layout"
done
# The flyer again, with the example logo in the centre of the code.
"$bin" export --campaign "Spring Sale" --dir "$work/logo" --format png --size 256 \
  --sheet pdf --layout flyer --logo assets/example-logo.svg >/dev/null 2>&1
pdftoppm -r 60 -png -f 1 -l 1 -singlefile "$work/logo/sheet.pdf" "docs/screenshots/print-logo"
ls -l docs/screenshots/print-*.png
