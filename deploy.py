"""The dev environment on the SmoothCurves droplet, beside production, in the order the host needs it.

    pyinfra inventory.py deploy.py        (target: see inventory.py; default the local sandbox)
"""
from tasks import (
    adoption,
    backups,
    bounds,
    certificates,
    checkout,
    data,
    dependencies,
    deploy_run,
    door,
    follow,
    health,
    nginx,
    orphans,
    packages,
    preflight,
    previews,
    restart_path,
    restore,
    service,
    service_user,
    webhook,
)

preflight.check_settings_and_host()
orphans.stop_orphans()
packages.install_packages()
service_user.create_service_user()
restart_path.install_restart_path()
deploy_run.remove_retired_scripts()
bounds.bound_the_dev_environment()
code = checkout.update_checkout()
data.create_data_directory()
libraries = dependencies.install_dependencies()
backups.give_restic_access()
backups.schedule_backups()
restored = restore.restore_data()
adopted = adoption.take_over_hand_made_server()
data.seed_role_catalog()
service.run_dev_service(restart_after=code + libraries + restored + adopted)
door_changes = door.keep_the_door()
nginx.publish_dev_endpoint(door=door_changes)
certificates.obtain_dev_certificate()
health.check_health()
backups.take_first_backup()
adoption.confirm_carried_data_is_served(adopted)
follow.follow_branch()
webhook.receive_pushes()
previews.serve_previews()
