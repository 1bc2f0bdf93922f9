# ProductionReport: what production is on this host, in sections (@@ NAME) that tasks/production_view.py parses.
# $UNIT, $PORT, $CHECKOUT: production's unit, port and checkout as the settings name them.
echo '@@ unit'
systemctl show -p LoadState -p ActiveState -p MainPID -p User -p WorkingDirectory -p Environment \
  -p EnvironmentFiles -p FragmentPath -p Description "$UNIT" 2>/dev/null
echo '@@ listeners'
listeners=$(port_listeners "$PORT")
[ -z "$listeners" ] || printf '%s\n' "$listeners"
echo '@@ addresses'
ss -Htln "sport = :$PORT" 2>/dev/null | awk '{print $4}'
echo '@@ git'
wd=$(systemctl show -p WorkingDirectory --value "$UNIT" 2>/dev/null)
# One word per directory: paths with no space, production's and its leftovers'.
for dir in $( (printf '%s\n' "$listeners" | cut -f3; printf '%s\n' "$wd" "$CHECKOUT") | sort -u); do
  [ -d "$dir/.git" ] || continue
  printf '%s\t%s\t%s\n' "$dir" "$(owner_git "$dir" rev-parse --abbrev-ref HEAD 2>/dev/null)" \
    "$(owner_git "$dir" config --get remote.origin.url 2>/dev/null)"
done
echo '@@ nginx'
command -v nginx >/dev/null && nginx -T 2>/dev/null
echo '@@ enabled'
for link in /etc/nginx/sites-enabled/*; do
  [ -e "$link" ] && printf '%s\t%s\n' "$link" "$(readlink -f "$link")"
done
true
