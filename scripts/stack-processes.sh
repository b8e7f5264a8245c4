# How stack-up.sh runs its background processes: detached, with a pid file and a log that
# survives restarts. Sourced (needs $data, the stack's data folder, with pids/ and logs/).

# A log keeps what earlier runs wrote, so a crashed process's last lines are still there after
# the next start; past NOMALY_LOG_MAX_BYTES (default 10 MiB) it moves to NAME.log.1 (the one
# before is dropped). Each start appends a JSON line, like the processes' own logs.
open_log() { # log file
  local log="$1" max="${NOMALY_LOG_MAX_BYTES:-10485760}"
  if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt "$max" ]; then mv -f "$log" "$log.1"; fi
  printf '{"time":"%s","name":"stack-up","msg":"starting %s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$log" .log)" >>"$log"
}

running() { local f="$data/pids/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

start_bg() { # name, command...: detached from this shell so it outlives the script
  local name="$1" log="$data/logs/$1.log"; shift
  open_log "$log"
  setsid "$@" >>"$log" 2>&1 < /dev/null &
  echo $! >"$data/pids/$name.pid"
}
