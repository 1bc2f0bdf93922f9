"""/usr/local/sbin holds only what a timer, a hook or a person runs; what only a deploy runs is uploaded for
the one run and gone after it (tasks/deploy_run.py)."""
from tasks.deploy_run import RETIRED

# Each script bastion installs, by its setting, and who runs it.
RUN_BY = {
    "dev_restart_script": "the checkout's post-merge hook, the follow path, the deploy, people (sudo rule)",
    "dev_update_script": "the follow path",
    "dev_follow_script": "hacs-dev-follow.service (its timer and path unit)",
    "dev_status_script": "the follow path",
    "dev_webhook_push_script": "the webhook receiver's hook",
    "dev_bounds_script": "hacs-dev-bounds.timer, the restart path",
    "backup_restic_command": "the backup scripts, people",
    "dev_backup_script": "hacs-dev-backup.timer",
    "dev_backup_check_script": "hacs-dev-backup-check.timer",
    "production_backup_script": "hacs-production-backup.timer",
}


def bastions_scripts(host) -> set[str]:
    listing = host.run("grep -l '^# Managed by bastion' /usr/local/sbin/* 2>/dev/null")
    return set(listing.stdout.split())


def test_sbin_holds_only_what_timers_hooks_and_people_run(host, settings):
    run_by = {getattr(settings, name): who for name, who in RUN_BY.items()}
    found = bastions_scripts(host)
    assert found, "no script of bastion's in /usr/local/sbin: is this host deployed?"
    assert found <= set(run_by), f"run by nobody but a deploy: {sorted(found - set(run_by))}"
    assert not found & set(RETIRED)


def test_the_scripts_a_timer_runs_are_its_units(host, settings):
    for script, unit in ((settings.dev_backup_script, settings.dev_backup_unit),
                         (settings.dev_bounds_script, settings.dev_bounds_unit),
                         (settings.dev_follow_script, settings.dev_follow_unit)):
        assert script in host.check_output(f"systemctl show -p ExecStart --value {unit}.service"), unit


def test_nothing_a_deploy_ran_is_left_behind(host, settings):
    leftover = host.run(f"ls -A {settings.deploy_run_dir} 2>/dev/null").stdout.split()
    assert leftover == [], f"in {settings.deploy_run_dir}: {leftover}"
