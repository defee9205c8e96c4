# Sourced by the probe-* scripts: a scratch directory, a daemon, cleanup, and a verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/daemon.sh
WORK=$(mktemp -d /tmp/chatd-probe.XXXXXX)
# Helpers a probe starts outside the job table's reach (the right end of a pipeline): killed
# explicitly at exit, so no probe leaves anything running.
EXTRA_PIDS=()
trap 'stop_daemon; kill "${EXTRA_PIDS[@]}" $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
ensure_chatd_built
PROBE_FAILED=0

# check TEXT COMMAND...: runs COMMAND (inside `if`, so a failure is reported, not fatal under
# set -e) and prints "ok TEXT" or "FAIL TEXT".
check() {
    local text=$1
    shift
    if "$@"; then echo "  ok    $text"; else echo "  FAIL  $text"; PROBE_FAILED=1; fi
}

is_utf8() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }

# named_client NAME: open_client plus /nick, waiting until the name is taken; the client's
# stdin descriptor is then ${FD[NAME]}.
declare -A FD
named_client() {
    open_client "$1"
    FD[$1]=$CLIENT_FD
    printf '/nick %s\n' "$1" >&"$CLIENT_FD"
    wait_for_text "$WORK/$1.out" "OK nick $1" 10
}

finish_probe() {
    check "the daemon is still running" kill -0 "$DAEMON_PID"
    exit "$PROBE_FAILED"
}
