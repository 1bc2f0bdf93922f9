def git(host, settings, args):
    """As the checkout's owner: root's git refuses it (tests/test_today_contained.py proves it)."""
    return host.check_output(f"runuser -u {settings.dev_user} -- git -C {settings.dev_checkout} {args}")


def test_checkout_is_on_the_dev_branch_and_owned_by_the_service_user(host, settings):
    checkout = host.file(settings.dev_checkout)
    assert checkout.is_directory
    assert checkout.user == settings.dev_user
    assert host.file(f"{settings.dev_checkout}/.git").user == settings.dev_user
    assert git(host, settings, "rev-parse --abbrev-ref HEAD") == settings.dev_branch


def test_checkout_is_at_its_upstream_tip(host, settings):
    assert git(host, settings, "rev-parse HEAD") == git(host, settings, f"rev-parse origin/{settings.dev_branch}")


def test_post_merge_hook_runs_the_restart_path_and_is_not_the_service_users(host, settings):
    hooks = host.file(f"{settings.dev_checkout}/.git/hooks")
    hook = host.file(f"{settings.dev_checkout}/.git/hooks/post-merge")
    assert (hooks.user, hook.user, hook.mode) == ("root", "root", 0o755)
    assert settings.dev_restart_script in hook.content_string
    assert host.run(f"runuser -u {settings.dev_user} -- test -w {hook.path}").rc != 0
