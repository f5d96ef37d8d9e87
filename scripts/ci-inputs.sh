#!/usr/bin/env bash
# The validate job of the nightly workflows (.github/workflows/nightly-chaos.yml, .gitlab-ci.yml):
# checks a run's inputs before any runner builds a lab (and gives GitLab's later jobs the inputs
# normalized, as GitHub's get them from this job's outputs), from the environment
#   PROFILE (seed)  CASES (case numbers, comma-separated; empty: all)  REPEAT (1)  STRICT (false)  SHARDS (1)
# A bad input: one line naming it and what is valid (GitHub's ::error:: under Actions), exit 1.
# Otherwise one summary line, and with --out FILE these lines appended for the jobs after it:
#   profile= cases= repeat= strict=true|false total=<shards used> shards=<JSON list 1..total> timeout=<minutes per shard>
#   run_id=<the night's run id: RUN_ID, else the time now> (every shard of a night runs as this one run)
set -euo pipefail
shopt -s nullglob

out=""
case "${1:-}" in
  --out)
    out=${2:?--out needs a file}
    [[ $out == /* ]] || out=$PWD/$out
    ;;
  "") ;;
  *)
    echo "usage: bash scripts/ci-inputs.sh [--out FILE]" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."

fail() {
  local m=$1
  if [ "${GITHUB_ACTIONS:-}" = true ]; then
    # Workflow-command escaping: an input cannot end the message and start a command of its own.
    m=${m//'%'/'%25'}
    m=${m//$'\r'/'%0D'}
    m=${m//$'\n'/'%0A'}
    echo "::error title=nightly chaos inputs::$m"
  else
    echo "error: $m" >&2
  fi
  exit 1
}

profile=${PROFILE:-seed}
if [[ ! $profile =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || [ ! -f "profiles/$profile/profile.json" ]; then
  known=()
  for d in profiles/*/profile.json; do
    d=${d%/profile.json}
    known+=("${d#profiles/}")
  done
  fail "unknown profile \"$profile\": profiles/ has ${known[*]:-nothing} (a profile is profiles/<name>/profile.json)"
fi

scenarios=(scenarios/[0-9]*-*.test.ts)
# The rows' numbers, each once: a row may be several files (row 4: one per child daemon).
numbers=()
for f in "${scenarios[@]}"; do
  f=${f#scenarios/}
  c=$((10#${f%%-*}))
  [[ " ${numbers[*]} " == *" $c "* ]] || numbers+=("$c")
done
[ ${#scenarios[@]} -gt 0 ] || fail "no scenarios/NN-*.test.ts in this checkout"
cases=${CASES:-}
cases=${cases// /}
if [ -z "$cases" ]; then
  n=${#scenarios[@]}
else
  n=0
  IFS=, read -ra wanted <<<"$cases"
  for c in "${wanted[@]}"; do
    [ -n "$c" ] || continue
    if [[ ! $c =~ ^[0-9]{1,3}$ ]] || ! compgen -G "scenarios/$(printf '%02d' "$((10#$c))")-*.test.ts" >/dev/null; then
      fail "unknown case \"$c\" in cases \"$cases\": the cases are ${numbers[*]} (comma-separated; empty: all)"
    fi
    # n counts files, as the shards share them out.
    n=$((n + $(compgen -G "scenarios/$(printf '%02d' "$((10#$c))")-*.test.ts" | wc -l)))
  done
  [ "$n" -gt 0 ] || fail "cases \"$cases\" names no case: the cases are ${numbers[*]} (comma-separated; empty: all)"
fi

repeat=${REPEAT:-1}
# At most 20: 20 runs of a shard's cases already take hours, and a GitHub job ends at 6 h.
if [[ ! $repeat =~ ^[0-9]{1,2}$ ]] || [ "$((10#$repeat))" -lt 1 ] || [ "$((10#$repeat))" -gt 20 ]; then
  fail "repeat \"$repeat\" is not a whole number from 1 to 20"
fi
repeat=$((10#$repeat))

case "${STRICT:-false}" in
  true | 1) strict=true ;;
  false | 0 | "") strict=false ;;
  *) fail "strict \"$STRICT\" is neither true nor false" ;;
esac

shards=${SHARDS:-1}
[[ $shards =~ ^[1-4]$ ]] || fail "shards \"$shards\" is not 1, 2, 3 or 4"
# More shards than cases would leave a runner with nothing to run.
total=$((shards < n ? shards : n))
per=$(((n + total - 1) / total))
# Set-up and lab ~20 min, then at most ~3 min per case run (a heal ladder climbed to the top).
timeout=$((20 + per * repeat * 3))
timeout=$((timeout > 360 ? 360 : timeout))
list=$(seq -s, 1 "$total")
# The harness's run ids are ISO times with ':' and '.' as '-' (they name reports/runs/<id>).
run_id=${RUN_ID:-$(date -u +%Y-%m-%dT%H-%M-%S-000Z)}
[[ $run_id =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail "run id \"$run_id\" is not letters, digits, '.', '_' or '-'"

echo "nightly chaos: profile $profile, cases ${cases:-all} ($n scenario files), repeat $repeat, strict $strict, $total shard(s) of up to $per file(s), $timeout min per shard"
if [ -n "$out" ]; then
  printf '%s\n' "profile=$profile" "cases=$cases" "repeat=$repeat" "strict=$strict" "total=$total" "shards=[$list]" "timeout=$timeout" "run_id=$run_id" >>"$out"
fi
