# shellcheck shell=bash
# Sourced by the scripts: say what is happening, and time it.
#
#   say TEXT...                       a line tagged with $STEP_TAG
#   die TEXT...                       the same in red on stderr, then exit 1
#   step NAME EXPECTED HINT CMD...    runs CMD, saying first what it is and how long it
#                                     takes on a cold 2-core machine (EXPECTED, "" if it
#                                     varies), then how long it took; if CMD fails, says
#                                     HINT (what to do) from step_exit, which the
#                                     script's EXIT trap calls first
#
# Every finished step is appended to $STEP_TIMES (a file, if set) as "seconds<TAB>name",
# so a caller can print the table of a whole run (scripts/serve, scripts/test do).

STEP_TAG=${STEP_TAG:-shop}

say() { printf '\033[1;34m[%s]\033[0m %s\n' "$STEP_TAG" "$*"; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$STEP_TAG" "$*" >&2; exit 1; }

# 75 -> "1 min 15 s"
human_secs() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%d min %02d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi
}

step() {
  local name=$1 expect=$2 t
  STEP_HINT=$3
  shift 3
  if [ -n "$expect" ]; then say "$name (cold: ~$expect on 2 cores) …"; else say "$name …"; fi
  t=$SECONDS
  STEP_NOW=$name STEP_START=$t
  # Run as a plain command, so that `set -e` still holds inside a shell function.
  "$@"
  STEP_NOW=
  say "$name: done in $(human_secs $((SECONDS - t)))"
  if [ -n "${STEP_TIMES:-}" ]; then printf '%s\t%s\n' $((SECONDS - t)) "$name" >>"$STEP_TIMES"; fi
}

# For the script's EXIT trap (first in it): a step that failed says so, with its hint.
step_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "${STEP_NOW:-}" ]; then
    printf '\033[1;31m[%s] %s failed after %s.\033[0m %s\n' "$STEP_TAG" "$STEP_NOW" \
      "$(human_secs $((SECONDS - STEP_START)))" "$STEP_HINT" >&2
    STEP_NOW=
  fi
  return "$rc"
}

# Prints the table of $STEP_TIMES (and deletes the file).
step_summary() {
  [ -n "${STEP_TIMES:-}" ] && [ -s "$STEP_TIMES" ] || return 0
  local secs name
  while IFS=$'\t' read -r secs name; do
    printf '  %12s  %s\n' "$(human_secs "$secs")" "$name"
  done <"$STEP_TIMES"
  rm -f "$STEP_TIMES"
}
