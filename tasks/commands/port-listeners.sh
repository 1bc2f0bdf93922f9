# `port_listeners PORT`: one tab-separated line per process listening on TCP port PORT (production_view.LISTENER):
# pid, user, working directory, command line, systemd unit, and the two settings of the app's environment that
# production's view and adoption need (never a secret).
# A process holds a listening socket for a moment after a fork of its holder, until its exec closes it: systemd
# forks for every unit it starts, the app for every program it spawns. So a process is named only if, once its
# entries are read, the socket is still in the descriptor ss saw (or its pid, reused, would name whatever it became),
# and it is not systemd's own fork that has not yet exec'd (its program is PID 1's, and so is the socket).
port_listeners() {
  command -v ss >/dev/null || return 0
  init=$(readlink /proc/1/exe)
  ss -Htlnpe "sport = :$1" 2>/dev/null | while read -r listening; do
    socket="socket:[$(echo "$listening" | grep -o 'ino:[0-9]*' | cut -d: -f2)]"
    holders=$(echo "$listening" | grep -o 'pid=[0-9]*,fd=[0-9]*' | sed 's/pid=\([0-9]*\),fd=/\1 /')
    for pid in $(echo "$holders" | cut -d' ' -f1 | sort -u); do
      fd=$(echo "$holders" | sed -n "s/^$pid //p" | head -n 1)
      env=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null)
      line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$pid" "$(ps -o user= -p "$pid")" "$(readlink "/proc/$pid/cwd")" \
        "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" \
        "$(grep -o '[^/]*\.service' "/proc/$pid/cgroup" 2>/dev/null | tail -n 1)" \
        "$(echo "$env" | sed -n 's/^V2_DATA_ROOT=//p')" "$(echo "$env" | sed -n 's/^SSE_HOST=//p')")
      [ "$(readlink "/proc/$pid/fd/$fd")" = "$socket" ] || continue
      if [ "$pid" != 1 ] && [ "$(readlink "/proc/$pid/exe")" = "$init" ] && echo "$holders" | grep -q '^1 '; then
        continue
      fi
      printf '%s\n' "$line"
    done
  done | awk -F'\t' '!seen[$1]++'
}
