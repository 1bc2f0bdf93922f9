import re
import shlex

from pyinfra import host
from pyinfra.api import OperationError, deploy, operation
from pyinfra.facts.files import Directory, FileContents, FindInFile
from pyinfra.operations import files

from tasks import template
from tasks.facts import CheckoutGit
from tasks.output import reported


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
    """A checkout made by hand as root (the diary's) becomes the service user's, once: root's tree until then,
    so the one recursive chown is not across a tree the service user could write. Anyone else's is not taken."""
    git_dir = host.get_fact(Directory, path=f"{checkout}/.git")
    if not git_dir or git_dir["user"] == owner:
        host.noop(f"{checkout} belongs to {owner}")
        return
    if git_dir["user"] != "root":
        raise OperationError(f"dev_checkout={checkout}: belongs to {git_dir['user']}, neither root (a hand-made "
                             f"checkout, taken over) nor {owner}; give it to {owner} yourself, or choose another path")
    yield f"chown -R --no-dereference {owner}:{owner} {shlex.quote(checkout)}"


@operation()
def origin_is(checkout: str, url: str, owner: str, branch: str):
    """origin of the checkout is url, set by the checkout's owner."""
    if host.get_fact(CheckoutGit, checkout=checkout, branch=branch).get("url") == url:
        host.noop(f"origin of {checkout} is {url}")
        return
    yield f"runuser -u {owner} -- git -C {shlex.quote(checkout)} remote set-url origin {shlex.quote(url)}"


@operation()
def no_root_git_in(checkout: str):
    """Earlier versions let root's git trust the checkout (safe.directory): git's own guard against a
    configuration planted in a tree another user writes. It is back on."""
    if not host.get_fact(FindInFile, path="/etc/gitconfig", pattern=f"directory = {checkout}$"):
        host.noop(f"root's git does not trust {checkout}")
        return
    literal = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", checkout)  # git's value pattern is a regex
    yield f"git config --system --unset-all safe.directory {shlex.quote('^' + literal + '$')}"


@operation()
def fast_forward(checkout: str, branch: str, update_script: str):
    """Bring the checkout to the upstream tip through the update script, whose own report (local
    changes kept in a stash, or why it stopped) is shown in the deploy's output."""
    state = host.get_fact(CheckoutGit, checkout=checkout, branch=branch)
    local, remote, on = state.get("head"), state.get("origin"), state.get("branch")
    if not state and not host.state.is_executing:
        # Shown before the run (--dry, or a run without -y) on a host with no checkout yet: the clone comes first.
        yield reported(update_script)
        return
    if remote is None:
        raise OperationError(f"dev_branch={branch}: origin of {checkout} has no such branch, or cannot be reached")
    if local == remote and on == branch:
        host.noop(f"{checkout} is at origin/{branch} ({remote[:12]})")
        return
    yield reported(update_script)


@operation()
def keep_foreign_hook(hook: str):
    """A post-merge hook bastion did not write (the diary's) is kept beside it before it is replaced."""
    lines = host.get_fact(FileContents, path=hook)
    if not lines or any("Managed by bastion" in line for line in lines):
        host.noop(f"{hook} is bastion's or absent")
        return
    yield f"cp -pn {hook} {hook}.hand-made"


@deploy("Checkout")
def update_checkout():
    """The v2 checkout, owned by the service user; returns the operations that changed the code."""
    d = host.data
    # Root's git refuses the checkout ("dubious ownership"): git runs there as its owner only.
    no_root_git_in(name="root's git does not trust the checkout", checkout=d.dev_checkout)
    cloned = clone(name=f"Clone {d.dev_branch}", src=d.dev_repo_url, dest=d.dev_checkout,
                   branch=d.dev_branch, owner=d.dev_user)
    owned = owned_by(name=f"Checkout belongs to {d.dev_user}", checkout=d.dev_checkout, owner=d.dev_user)
    origin_is(name="origin is dev_repo_url", checkout=d.dev_checkout, url=d.dev_repo_url, owner=d.dev_user,
              branch=d.dev_branch)
    update = fast_forward(name=f"Fast-forward to origin/{d.dev_branch}", checkout=d.dev_checkout,
                          branch=d.dev_branch, update_script=d.dev_update_script)
    files.directory(name="Hooks directory owned by root", path=f"{d.dev_checkout}/.git/hooks",
                    user="root", group="root", mode="755")
    keep_foreign_hook(name="A hand-made post-merge hook is kept", hook=f"{d.dev_checkout}/.git/hooks/post-merge")
    files.template(name="post-merge hook runs the restart path",
                   src=template("dev_checkout/git-hooks/post-merge.j2"),
                   dest=f"{d.dev_checkout}/.git/hooks/post-merge", user="root", group="root", mode="755")
    return [cloned, owned, update]
