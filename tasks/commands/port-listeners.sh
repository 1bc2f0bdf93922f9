# PortListeners: one tab-separated line per process listening on TCP port $PORT: pid, user, working directory,
# command line, systemd unit, and the two settings of the app's environment that adoption needs (never a secret).
command -v ss >/dev/null || exit 0
for pid in $(ss -Htlnp "sport = :$PORT" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
  env=$(tr '\0' '\n' < "/proc/$pid/environ")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pid" "$(ps -o user= -p "$pid")" "$(readlink "/proc/$pid/cwd")" \
    "$(tr '\0' ' ' < "/proc/$pid/cmdline")" "$(grep -o '[^/]*\.service' "/proc/$pid/cgroup" | tail -n 1)" \
    "$(echo "$env" | sed -n 's/^V2_DATA_ROOT=//p')" "$(echo "$env" | sed -n 's/^SSE_HOST=//p')"
done
