import shlex

from pyinfra import host, logger
from pyinfra.api import FactBase, OperationError, deploy, operation
from pyinfra.facts.files import Directory, File
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
def clone(src: str, dest: str, branch: str, owner: str):
    """Clone beside the destination and move it into place: a run killed mid-clone leaves no
    half-made checkout for the next run to trust."""
    if host.get_fact(Directory, path=f"{dest}/.git"):
        host.noop(f"{dest} is a checkout")
        return
    partial = shlex.quote(f"{dest}.partial-clone")
    target = shlex.quote(dest)
    yield (f"rm -rf {partial} && install -d -o {owner} -g {owner} {partial} && "
           f"runuser -u {owner} -- git clone --quiet --branch {shlex.quote(branch)} {shlex.quote(src)} {partial} && "
           f"{{ [ ! -e {target} ] || rmdir {target}; }} && mv -T {partial} {target}")


@operation()
def owned_by(checkout: str, owner: str):
    """A checkout made by hand as root (the diary's) becomes the service user's, hooks excepted."""
    git_dir = host.get_fact(File, path=f"{checkout}/.git")
    if not git_dir or git_dir["user"] == owner:
        host.noop(f"{checkout} belongs to {owner}")
        return
    yield f"chown -R {owner}:{owner} {checkout}"


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
    # Root (the deploy, an operator's `git pull`) works in a checkout it does not own.
    git.config(name="git trusts the checkout for root", key="safe.directory",
               value=d.dev_checkout, multi_value=True, system=True)
    cloned = clone(name=f"Clone {d.dev_branch}", src=d.dev_repo_url, dest=d.dev_checkout,
                   branch=d.dev_branch, owner=d.dev_user)
    owned = owned_by(name=f"Checkout belongs to {d.dev_user}", checkout=d.dev_checkout, owner=d.dev_user)
    git.config(name="origin is dev_repo_url", key="remote.origin.url", value=d.dev_repo_url,
               repo=d.dev_checkout, _sudo=True, _sudo_user=d.dev_user)
    update = fast_forward(name=f"Fast-forward to origin/{d.dev_branch}", checkout=d.dev_checkout,
                          branch=d.dev_branch, update_script=d.dev_update_script,
                          local_changes=d.dev_local_changes)
    files.directory(name="Hooks directory owned by root", path=f"{d.dev_checkout}/.git/hooks",
                    user="root", group="root", mode="755")
    files.template(name="post-merge hook runs the restart path",
                   src=template("dev_checkout/git-hooks/post-merge.j2"),
                   dest=f"{d.dev_checkout}/.git/hooks/post-merge", user="root", group="root", mode="755")
    return [cloned, owned, update]
