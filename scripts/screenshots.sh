#!/usr/bin/env bash
# The first-hour walk (issue 19) and the README's screenshots, from the
# release binary under Xvfb, driven with xdotool:
#   scripts/screenshots.sh                 # every size and theme into target/walk/,
#                                          # then the README's pictures (1280×800, dark)
#   SIZES=640x480 THEMES=light scripts/screenshots.sh   # a quick look
# Screens: first run (the checklist on an empty database), Links with a
# link's panel, the new-link form, Analytics on "This month" (against the
# same days of last month), its conversions and funnel, Backend, Setup, the
# bulk export, and a printed Avery L7160 label sheet rasterised with pdftoppm.
# Tabs are reached with Ctrl+1..4 and the theme with --theme; the few
# buttons without a key are clicked at positions that hold for each size.
# Needs: xvfb, xdotool, imagemagick, poppler-utils (installed with apt when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/refboard}
walk=${WALK:-target/walk}
sizes=${SIZES:-"640x480 1280x800 1920x1080"}
themes=${THEMES:-"light dark"}
mkdir -p "$walk" docs/screenshots

if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v import >/dev/null \
    || ! command -v pdftoppm >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        xvfb xdotool imagemagick poppler-utils
fi
[ -x "$bin" ] || cargo build --release --quiet

work=$(mktemp -d)
display=:97
cleanup() { kill "${app:-}" "${xvfb:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Starts the app (arguments after the binary) on a fresh HOME so no
# remembered state leaks between shots, and fits its window to the screen.
start() {
    HOME="$work/home-$RANDOM" XDG_DATA_HOME="" XDG_CONFIG_HOME="" "$bin" "$@" >/dev/null 2>&1 &
    app=$!
    win=""
    for _ in $(seq 1 120); do
        win=$(xdotool search --name "^refboard" 2>/dev/null | head -1 || true)
        [ -n "$win" ] && break
        sleep 0.5
    done
    [ -n "$win" ] || { echo "the window did not appear" >&2; exit 1; }
    xdotool windowsize "$win" "$w" "$h"
    xdotool windowfocus "$win" 2>/dev/null || true
    sleep 3
}
stop() { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; app=""; }
shot() { xdotool mousemove $((w - 2)) $((h - 2)); sleep "${2:-1.5}"; import -window root "$walk/$tag-$1.png"; echo "wrote $walk/$tag-$1.png"; }
# winit ignores synthetic events sent to a window: focus it (no window
# manager here) and type to the focus.
key() { xdotool windowfocus "$win" 2>/dev/null || true; xdotool key "$@"; sleep 0.7; }
click() { xdotool mousemove "$1" "$2" click 1; sleep 0.7; }
scroll_down() { xdotool mousemove "$1" "$2"; for _ in $(seq 1 "$3"); do xdotool click 5; done; sleep 0.7; }

# Where the buttons without a key sit, per size: "This month" on Analytics
# and "Bulk export…" on Links (the top bar wraps differently per width).
pos() {
    case "$1:$size" in
        month:640x480) echo "279 88" ;;
        month:1280x800) echo "279 68" ;;
        month:1920x1080) echo "278 44" ;;
        bulk:640x480) echo "370 304" ;;
        bulk:1280x800) echo "398 284" ;;
        bulk:1920x1080) echo "393 260" ;;
    esac
}

for size in $sizes; do
    w=${size%x*}
    h=${size#*x}
    Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    export DISPLAY=$display
    sleep 1
    for theme in $themes; do
        tag="$size-$theme"
        # First run: an empty database shows the checklist.
        start --db "$work/empty-$tag.db" gui --theme "$theme"
        shot first-run
        stop
        # The demo: 150 days of referrals, conversions and conversations.
        start demo --theme "$theme"
        key ctrl+1
        key Down
        shot links
        key ctrl+n
        shot new-link-form
        key Escape
        key ctrl+2
        # shellcheck disable=SC2046
        click $(pos month)
        shot analytics 2
        scroll_down $((w / 2)) $((h / 2)) 40
        shot conversions 2
        key ctrl+3
        shot backend
        key ctrl+4
        shot setup
        key ctrl+1
        # shellcheck disable=SC2046
        click $(pos bulk)
        shot bulk-export
        stop
    done
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
done

# A printed Avery L7160 sheet of the example campaign, rasterised.
export REFBOARD_DB="$work/print.db"
"$bin" page add JaspersMarket --name "Jasper's Market" --page-id 104729178032417 >/dev/null
"$bin" channel add Flyer --kind flyer >/dev/null
"$bin" campaign add "Spring Sale" >/dev/null
for r in spring-sale-flyer spring-sale-flyer-2 spring-sale-window; do
    "$bin" link add --campaign "Spring Sale" --channel Flyer --ref "$r" \
        --cta "Get 10% off your first order" >/dev/null
done
"$bin" export --campaign "Spring Sale" --dir "$work/labels" --sheet pdf --layout labels \
    --label L7160 --copies 7 >/dev/null
pdftoppm -r 60 -png -f 1 -l 1 -singlefile "$work/labels/sheet.pdf" "$walk/label-sheet"
echo "wrote $walk/label-sheet.png"

# The README shows the 1280×800 dark walk.
if [ -e "$walk/1280x800-dark-links.png" ]; then
    for s in first-run links new-link-form analytics conversions backend bulk-export; do
        cp "$walk/1280x800-dark-$s.png" "docs/screenshots/$s.png"
    done
    cp "$walk/label-sheet.png" docs/screenshots/label-sheet.png
fi
