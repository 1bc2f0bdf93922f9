from pyinfra import host, logger
from pyinfra.api import FactBase, OperationError, deploy, operation
from pyinfra.facts.git import GitLocalCommit, GitRemoteBranchCommit
from pyinfra.operations import files, git

from tasks import template


class GitChangedFiles(FactBase):
    """Tracked files with local changes (the app rewrites some under data/)."""

    def command(self, repo):
        return f"! test -d {repo}/.git || git -C {repo} status --porcelain --untracked-files=no"

    def process(self, output):
        return [line[3:] for line in output]


@operation()
def fast_forward(checkout: str, branch: str, update_script: str, local_changes: str):
    """Bring the checkout to the upstream tip through the update script (local-changes policy)."""
    local = host.get_fact(GitLocalCommit, repo=checkout, ref="HEAD")
    remote = host.get_fact(GitRemoteBranchCommit, repo=checkout, branch=branch)
    if remote is None:
        raise OperationError(f"dev_branch={branch}: origin of {checkout} has no such branch, or cannot be reached")
    if local == remote:
        host.noop(f"{checkout} is at origin/{branch} ({remote[:12]})")
        return
    changed = host.get_fact(GitChangedFiles, repo=checkout)
    if changed and local_changes == "stash" and host.state.is_executing:
        logger.warning(f"{host.print_prefix}local changes to {', '.join(changed)} are kept in git stash "
                       f"before the update (dev_local_changes=stash; see `git stash list` in {checkout})")
    yield update_script


@deploy("Checkout")
def update_checkout():
    """The v2 checkout, owned by the service user; returns the operations that changed the code."""
    d = host.data
    files.directory(name="Checkout directory", path=d.dev_checkout,
                    user=d.dev_user, group=d.dev_user, mode="755")
    # Root (the deploy, an operator's `git pull`) works in a checkout it does not own.
    git.config(name="git trusts the checkout for root", key="safe.directory",
               value=d.dev_checkout, multi_value=True, system=True)
    clone = git.repo(name=f"Clone {d.dev_branch}", src=d.dev_repo_url, dest=d.dev_checkout,
                     branch=d.dev_branch, pull=False, _sudo=True, _sudo_user=d.dev_user)
    update = fast_forward(name=f"Fast-forward to origin/{d.dev_branch}", checkout=d.dev_checkout,
                          branch=d.dev_branch, update_script=d.dev_update_script,
                          local_changes=d.dev_local_changes)
    files.directory(name="Hooks directory owned by root", path=f"{d.dev_checkout}/.git/hooks",
                    user="root", group="root", mode="755")
    files.template(name="post-merge hook runs the restart path",
                   src=template("dev_checkout/git-hooks/post-merge.j2"),
                   dest=f"{d.dev_checkout}/.git/hooks/post-merge", user="root", group="root", mode="755")
    return [clone, update]
