# What promote.py decides on, as key=value (tasks/promote_rules.py reads it): production's checkout as its owner's
# git sees it, the commit asked for (a SHA, or a branch whose served commit is meant), its verdict on this host,
# where it stands against production's branch and commit, and the last promotion. Variables: production_checkout,
# production_branch, dev_checkout, dev_branch, dev_commit_file, state_dir, preview_state_dir, promote_state, target, app_writes
# (space-separated), backup_script, restic.
# shellcheck disable=SC2154  # PromoteFacts sets them (tasks/facts.py: with_values) before this script
say() { [ -n "$2" ] && echo "$1=$2"; }
[ -d "$production_checkout/.git" ] || { echo "production_checkout_missing=yes"; exit 0; }
head=$(owner_git "$production_checkout" rev-parse HEAD 2>/dev/null)
say production_head "$head"
say production_on "$(owner_git "$production_checkout" symbolic-ref --quiet --short HEAD 2>/dev/null)"
# Tracked files changed in production's checkout: the server's own under the directories the app writes (the
# fast-forward keeps them, unless the commit changes them too), anyone else's by hand.
changed=$(owner_git "$production_checkout" status --porcelain --untracked-files=no 2>/dev/null | cut -c4-)
runtime_dirs="^($(printf '%s' "$app_writes" | tr ' ' '|'))/"
runtime=$(printf '%s\n' "$changed" | grep -E "$runtime_dirs")
say production_changes "$(printf '%s\n' "$changed" | grep -v -E -e "$runtime_dirs" -e '^$' | head -n 5 | paste -sd' ' -)"
say production_runtime_changes "$(printf '%s' "$runtime" | head -n 5 | paste -sd' ' -)"
say production_ahead "$(owner_git "$production_checkout" rev-list --count HEAD --not --remotes 2>/dev/null)"
# The commit meant: the dev environment's served one, a preview's, or the name as git reads it in the dev checkout.
commit="" source=""
case "$target" in
  "$dev_branch") commit=$(cat "$dev_commit_file" 2>/dev/null) source=dev ;;
  *) for preview in "$preview_state_dir"/*/preview.state; do
       if [ ! -f "$preview" ] || ! grep -qx "branch=$target" "$preview"; then continue; fi
       commit=$(sed -n 's/^deployed=//p' "$(dirname "$preview")/follow.state" 2>/dev/null)
       source="preview $(basename "$(dirname "$preview")")"
     done ;;
esac
if [ -z "$source" ]; then
  commit=$(owner_git "$dev_checkout" rev-parse --verify --quiet "$target^{commit}" 2>/dev/null) source=commit
fi
case "$commit" in *[!0-9a-f]*) commit="" ;; esac
say target_source "$source"
say target_commit "$commit"
if [ -n "$commit" ]; then
  for verdict in "$state_dir/verdicts/$commit" "$preview_state_dir"/*/verdicts/"$commit"; do
    [ -f "$verdict" ] || continue
    sed -n 's/^\(verdict\|reason\|at\)=/verdict_\1=/p' "$verdict"
    grep -qx 'verdict=passed' "$verdict" && break
  done
  # Origin's branch as it is now (not as a fetch of long ago left it); judged here when its tip is known here.
  tip=$(owner_git "$dev_checkout" ls-remote origin "refs/heads/$production_branch" 2>/dev/null | cut -f1 | head -n 1)
  say branch_tip "$tip"
  if [ -n "$tip" ] && owner_git "$dev_checkout" cat-file -e "$tip^{commit}" 2>/dev/null; then
    if owner_git "$dev_checkout" merge-base --is-ancestor "$commit" "$tip" 2>/dev/null
    then echo on_branch=yes; else echo on_branch=no; fi
  fi
  if [ -n "$head" ] && owner_git "$dev_checkout" cat-file -e "$head^{commit}" 2>/dev/null; then
    # shellcheck disable=SC2086  # one path per word
    [ -n "$runtime" ] && say runtime_changes_touched "$(owner_git "$dev_checkout" diff --name-only "$head" "$commit" \
      -- $runtime 2>/dev/null | paste -sd' ' -)"
    if owner_git "$dev_checkout" merge-base --is-ancestor "$head" "$commit" 2>/dev/null
    then echo descends=yes; else echo descends=no; fi
  fi
fi
sed 's/^/last_/' "$promote_state" 2>/dev/null
# The repository the pre-promote snapshot goes to, answering now (a run would stop there, after its first change).
if [ ! -x "$backup_script" ]; then
  echo "snapshot_unready=no $backup_script on this host (deploy.py installs it with the backups)"
elif ! out=$("$restic" cat config 2>&1 >/dev/null); then
  echo "snapshot_unready=$(printf '%s\n' "$out" | grep -v '^ *$' | tail -n 1)"
fi
true
