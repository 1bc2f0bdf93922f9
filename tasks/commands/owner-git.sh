# git in a checkout as the checkout's owner (root's git never runs in a tree another user writes), with
# nothing of its configuration that runs a program: `owner_git DIR ARGS...`. Sourced by the facts that read git.
owner_git() {
  d=$1
  shift
  setpriv --reuid="$(stat -c %u "$d")" --regid="$(stat -c %g "$d")" --clear-groups \
    env HOME=/nonexistent GIT_OPTIONAL_LOCKS=0 git -c core.hooksPath=/dev/null -c core.fsmonitor=false -C "$d" "$@"
}
