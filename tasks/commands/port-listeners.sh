# `port_listeners PORT`: one tab-separated line per process listening on TCP port PORT (production_view.LISTENER):
# pid, user, working directory, command line, systemd unit, and the two settings of the app's environment that
# production's view and adoption need (never a secret).
# A fork holds its parent's listening socket until its exec closes it: systemd forks for every unit it starts, the
# app for every program it spawns. So a process is named only if, once its entries are read, it is not its parent's
# program holding its parent's socket (a fork not yet exec'd, or a worker of the same server: the parent names it),
# and the socket is still in the descriptor ss saw (else it exec'd, or its pid, reused, names whatever it became).
port_listeners() {
  command -v ss >/dev/null || return 0
  ss -Htlnpe "sport = :$1" 2>/dev/null | while read -r listening; do
    socket="socket:[$(echo "$listening" | grep -o 'ino:[0-9]*' | cut -d: -f2)]"
    holders=$(echo "$listening" | grep -o 'pid=[0-9]*,fd=[0-9]*' | sed 's/pid=\([0-9]*\),fd=/\1 /')
    for pid in $(echo "$holders" | cut -d' ' -f1 | sort -u); do
      fd=$(echo "$holders" | sed -n "s/^$pid //p" | head -n 1)
      env=$(tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ")
      line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$pid" "$(ps -o user= -p "$pid")" "$(readlink "/proc/$pid/cwd")" \
        "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" \
        "$(grep -o '[^/]*\.service' "/proc/$pid/cgroup" 2>/dev/null | tail -n 1)" \
        "$(echo "$env" | sed -n 's/^V2_DATA_ROOT=//p')" "$(echo "$env" | sed -n 's/^SSE_HOST=//p')")
      parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
      if echo "$holders" | grep -q "^$parent " && [ "$(readlink "/proc/$pid/exe")" = "$(readlink "/proc/$parent/exe")" ]; then
        continue
      fi
      [ "$(readlink "/proc/$pid/fd/$fd")" = "$socket" ] || continue
      printf '%s\n' "$line"
    done
  done | awk -F'\t' '!seen[$1]++'
}
