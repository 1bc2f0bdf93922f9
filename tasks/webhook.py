"""Deploy on push: GitHub's push deliveries, checked by a receiver of bastion's own (the webhook tool the
droplet already runs, as hacs-dev-webhook.service on 127.0.0.1), start the follow path at once: the same
fetch, fast-forward, restart and rollback as the timer's. The team's webhook.service, /etc/webhook.conf
and /webhooks/ are never touched."""
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from tasks import jinja, template, units
from tasks.operator_secrets import made_here, secret_copy


@deploy("Deploy on push")
def receive_pushes():
    d = host.data
    config = d.dev_webhook_config_dir
    # Readable for the receiver's user: the hooks file holds no secret; the secret itself is root's (0600).
    files.directory(name="Receiver configuration", path=config, user="root", group="root", mode="755")
    secret = secret_copy(name=f"The webhook's secret in {config} (root only)", src=str(made_here("dev_webhook_secret_file")),
                         dest=f"{config}/secret")
    hooks = files.template(name="The receiver's hooks (the secret from its environment)",
                           src=template("etc/bastion/webhook/hooks.json.j2"), dest=f"{config}/hooks.json",
                           user="root", group="root", mode="644")
    push = files.template(name=f"Script {d.dev_webhook_push_script}", src=template("usr/local/sbin/hacs-dev-webhook-push.j2"),
                          dest=d.dev_webhook_push_script, user="root", group="root", mode="755")
    written = [
        files.template(name=f"Unit {d.dev_webhook_unit}.service", src=template("etc/systemd/system/hacs-dev-webhook.service.j2"),
                       dest=f"/etc/systemd/system/{d.dev_webhook_unit}.service", user="root", group="root", mode="644"),
        files.template(name=f"Unit {d.dev_follow_unit}.path", src=template("etc/systemd/system/hacs-dev-follow.path.j2"),
                       dest=f"/etc/systemd/system/{d.dev_follow_unit}.path", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja()),
    ]
    units.enabled_and_current([f"{d.dev_webhook_unit}.service", f"{d.dev_follow_unit}.path"],
                              [*written, secret, hooks, push], "the push receiver")
