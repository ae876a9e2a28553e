#!/usr/bin/env bash
# Regenerate src/eggshield/data/egg_defaults/egg{2,3,4}.json from the pinned
# egg installs (tools/egg_defaults/eggN/package-lock.json), then verify each
# file against a running empty app.
#
#   tools/egg_defaults/generate.sh            # all majors
#   tools/egg_defaults/generate.sh 3          # only egg 3
#
# Env: EGG_DEFAULTS_WORKDIR (install dir, default: a fresh temp dir, removed at
# the end unless KEEP=1), EGG_DEFAULTS_DATE (the "generated" date, default today),
# SKIP_VERIFY=1 to skip verify.js.
# Needs node >= 18.19 (egg 4.0.x) and npm; installs with `npm ci` from the
# lockfiles, through whatever registry npm is configured to use.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/src/eggshield/data/egg_defaults"
DATE="${EGG_DEFAULTS_DATE:-$(date +%F)}"
MAJORS=("$@")
[ ${#MAJORS[@]} -eq 0 ] && MAJORS=(2 3 4)

if [ -n "${EGG_DEFAULTS_WORKDIR:-}" ]; then
  WORK="$EGG_DEFAULTS_WORKDIR"
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/eggdefaults.XXXXXX")"
  if [ "${KEEP:-0}" != 1 ]; then
    trap 'rm -rf "$WORK"' EXIT
  fi
fi
case "$WORK" in
  "$REPO"|"$REPO"/*) echo "refusing to install inside the repo: $WORK" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
status=0
for m in "${MAJORS[@]}"; do
  src="$HERE/egg$m"
  [ -f "$src/package-lock.json" ] || { echo "no $src/package-lock.json" >&2; exit 2; }
  dir="$WORK/egg$m"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  echo "== egg $m: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm-ci.log" 2>&1) || {
    cat "$dir/npm-ci.log" >&2; exit 1; }

  node "$HERE/gen.js" --install-dir "$dir" --out "$OUT/egg$m.json" --date "$DATE" 2> >(grep -v 'single process mode' >&2)

  if [ "${SKIP_VERIFY:-0}" != 1 ]; then
    # egg prints its startup logs on stdout; keep only verify's report lines
    if node "$HERE/verify.js" --install-dir "$dir" --data "$OUT/egg$m.json" --env prod \
        --json "$WORK/verify-egg$m.json" >"$WORK/verify-egg$m.log" 2>&1; then
      :
    else
      status=1
    fi
    grep -E '^egg@|^  (dump|live|plugins)|^    !' "$WORK/verify-egg$m.log" || true
  fi
done
exit $status
