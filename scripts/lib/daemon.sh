# Sourced by the soak and probe scripts: start a chatd on a free port, read its RSS, stop it.
# Every wait here is bounded; nothing runs past the script that started it.

CHATD_BIN=${CHATD_BIN:-.build/release/chatd}

ensure_chatd_built() {
    if [ ! -x "$CHATD_BIN" ]; then swift build -c release --product chatd >&2; fi
}

# start_daemon LOGFILE [chatd options...]: sets DAEMON_PID and DAEMON_PORT.
start_daemon() {
    local log=$1
    shift
    # History on, in the script's own directory (a later --no-history turns it off).
    "$CHATD_BIN" --port 0 --db "${WORK:-/tmp}/chatd-$$.db" "$@" 2>"$log" &
    DAEMON_PID=$!
    DAEMON_PORT=
    for _ in $(seq 200); do
        DAEMON_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
        [ -n "$DAEMON_PORT" ] && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "chatd did not start:" >&2
    cat "$log" >&2
    return 1
}

stop_daemon() {
    [ -n "${DAEMON_PID:-}" ] || return 0
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
}

# daemon_rss_kib: the daemon's resident set size in KiB.
daemon_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }

# daemon_cpu_ticks: user + system clock ticks the daemon has used.
daemon_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# wait_for_text FILE TEXT SECONDS: true once FILE contains TEXT.
wait_for_text() {
    local file=$1 text=$2 limit=$3 waited=0
    while ! grep -qF -- "$text" "$file" 2>/dev/null; do
        sleep 0.1
        waited=$((waited + 1))
        [ "$waited" -ge $((limit * 10)) ] && return 1
    done
    return 0
}

# open_client NAME: an nc client whose stdin is fd CLIENT_FD (a FIFO) and whose output goes
# to $WORK/NAME.out; sets CLIENT_PID and CLIENT_FD.
open_client() {
    local name=$1
    rm -f "$WORK/$name.in"
    mkfifo "$WORK/$name.in"
    nc 127.0.0.1 "$DAEMON_PORT" <"$WORK/$name.in" >"$WORK/$name.out" 2>/dev/null &
    CLIENT_PID=$!
    exec {CLIENT_FD}>"$WORK/$name.in"
}
