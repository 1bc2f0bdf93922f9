# Every setting bastion knows, with its default. Override one for a run with
#   pyinfra inventory.py deploy.py --data dev_port=3447
# or per target in inventory.py. Values named production_* are facts about the live droplet:
# the dev deploy only reads them, to stay out of production's way.

# --- Production (facts, never changed by the dev deploy) -------------------------------------
# What bastion expects production to be: the droplet since the V1 -> V2 cutover of 2025-12-24
# (shared/notes/droplet-2026.md). Every run learns production from the host itself (its unit, the process
# on production_port, its checkout, nginx -T); where the host differs, the run says so in one line naming
# the setting and the host's value, and goes by the host. tests/verify_production fails on a difference.
production_checkout = "/mnt/coordinaton_mcp_data/Human-Adjacent-Coordination"
production_branch = "main"
# V2_DATA_ROOT of production: the volume root itself ("consolidated"), so everything under it is
# production's, whatever its name.
production_data_dir = "/mnt/coordinaton_mcp_data"
# The unit's EnvironmentFile (WAKE_API_KEY and the like), in the checkout, never in git.
production_secrets_file = "/mnt/coordinaton_mcp_data/Human-Adjacent-Coordination/secrets.env"
production_port = 3444
production_listen_host = "localhost"   # SSE_HOST; on the droplet it resolves to [::1]
production_unit = "mcp-coordination.service"
production_unit_description = "MCP Coordination System - V2 Production"
# The nginx site that serves server_name; the dev endpoint is included into its TLS server block.
production_nginx_site = "/etc/nginx/sites-available/smoothcurves-nexus"
server_name = "smoothcurves.nexus"
tls_certificate = "/etc/letsencrypt/live/smoothcurves.nexus/fullchain.pem"
tls_certificate_key = "/etc/letsencrypt/live/smoothcurves.nexus/privkey.pem"
# certbot's whole state (account, renewal configuration, the certificates: live/ symlinks into
# archive/): in production's encrypted backup, and put back by production.py before nginx serves, so a
# rebuilt droplet serves the live certificates the moment DNS points at it. None: left out.
production_tls_dir = "/etc/letsencrypt"
# A new host with no certificate to restore: True once DNS points server_name and the art site's name at
# it, and production.py obtains their certificates with certbot (the nginx authenticator, certonly: the
# sites stay bastion's), and certbot's own timer renews them. False: self-signed ones, named so, until then.
production_tls_obtain = False
production_acme_server = None      # the ACME directory; None: Let's Encrypt's (the tests give pebble's)
production_acme_ca_bundle = None   # a CA file on this machine for the ACME server's own TLS (pebble's); None: the system's
production_acme_email = None       # for Let's Encrypt's expiry mail; None: registered without one
# A host without production (the previews' droplet of their own) takes these settings too: deploy.py installs
# certbot and obtains server_name's certificate for the dev site of its own.
tls_obtain_packages = ["certbot", "python3-certbot-nginx"]   # certbot's package brings its renewal timer
# The droplet's second site: static files, its own certificate. Its file is named after the domain;
# it sorts after smoothcurves-nexus, which so stays the default 443 server (the team's proxy client
# sends the IP as Host).
production_art_server_name = "smoothcurves.art"
production_art_site = "/etc/nginx/sites-available/smoothcurves.art"
production_art_root = "/var/www/smoothcurves.art"
production_art_certificate = "/etc/letsencrypt/live/smoothcurves.art/fullchain.pem"
# Where the 2026 site sends what else it serves (production.py writes these locations).
production_webhook_port = 9000                                # webhook.service, /webhooks/ -> :9000/hooks/
production_paula_root = "/mnt/paula/public"                   # /PaulaTobar-Graduacion
production_claw_routes_dir = "/etc/nginx/claw-instances"      # per-instance routes, included
# tests/verify_production warns when a certificate has fewer days left than this (certbot renews at 30).
production_certificate_warn_days = 14
# The droplet's other services: tests/verify_production checks each is present and active, and bastion
# never manages them (it only names them).
production_other_units = ["webhook.service", "qdrant.service"]
# Production's leftovers: the 2025 directories the cutover left on the volume as defunct copies
# (docs of 2025-12-31 and 2026-01). Not production's live data, but possibly the only copy of something
# nobody archived: never a dev path, never written, chowned or deleted by any bastion operation. They are
# left out of production's routine backup and taken off the droplet once, in a snapshot of their own that
# retention never forgets (tag leftovers), so removing them one day costs nothing. A listed path that is
# what production runs on now (the 2025 droplet) counts as production's live part instead.
production_leftovers = [
    "/mnt/coordinaton_mcp_data/production",               # V1's checkout
    "/mnt/coordinaton_mcp_data/production-data",          # V1's data
    "/mnt/coordinaton_mcp_data/production-data-backups",  # V1's tar backups
    "/mnt/coordinaton_mcp_data/production-backups",
    "/mnt/coordinaton_mcp_data/v2-dev",                   # the 2025 dev server's checkout
    "/mnt/coordinaton_mcp_data/v2-dev-data",              # its data, moved to the volume root at the cutover
    "/mnt/coordinaton_mcp_data/v2-data",
    "/mnt/coordinaton_mcp_data/v2-dev-backups",
]
# Entries of production's data root left out of its routine backup, besides the checkout (code, from git;
# its secrets file is backed up alone) and the leftovers: Qdrant's storage is the index of the diaries,
# which are backed up and can be indexed again; backups/ holds the team's nightly tarballs of the very
# same data (cron, 7 days). node_modules and *.tmp files are left out wherever they are.
production_backup_exclude = ["qdrant-storage", "backups"]

# --- Production on a new host (production.py; deploy.py never runs it) ------------------------
# production.py builds production on a host that has none (or one it built itself). A host with a
# production unit, checkout or site made otherwise (the live droplet) is refused, unless its address
# is named here, for one run: --data production_rebuild_host=203.0.113.7
production_rebuild_host = None
production_repo_url = None             # None: dev_repo_url (the same repository)
production_packages = ["git", "nginx", "nodejs", "npm", "openssl", "curl", "restic", "openssh-client", "certbot",
                       "python3-certbot-nginx"]   # certbot's package brings its renewal timer
# How long production.py waits for production to answer healthy (it makes its own certificate first).
production_health_timeout_seconds = 30
# What the droplet runs that production.py does not rebuild, with where to find it; named in its report.
production_not_rebuilt = {
    "qdrant.service": "Qdrant on 127.0.0.1:6333; its index is rebuilt from the diaries",
    "ejabberd": "the Docker container on 5222/5280",
    "openfang@ units, hacs-driver-host.service, ZeroClaw/OpenClaw containers": "the team's instance services",
    "webhook.service and /etc/webhook.conf": "the team's paula-deploy hook and its secret",
    "/mnt/paula/public": "the Paula repository, cloned by its own hook",
}

# --- Promote: production moves to a proven commit (promote.py; the operator runs it) ---------------------
# For one run: the commit production moves to, a SHA (full or short) or a branch name meaning the commit served
# now (dev_branch: the dev environment's; a preview's branch: that preview's). Only a commit whose verdict on
# this host is passed (the dev environment's or a preview's), on production_branch, descending from
# production's commit: anything else is refused before any change.
promote = None
# After the restart, production must answer /health and tools/list through nginx, and pass the verdict, within
# this long; else it goes back to the commit before (and its node_modules), restarted and checked again.
promote_health_timeout_seconds = 60
promote_fetch_timeout_seconds = 120  # production's git fetch of origin: a remote that never answers fails the run
promote_ping_url = None      # healthchecks.io's convention: URL on a promotion, URL/fail on a rollback or a failure
# What bastion remembers of each promotion (key=value; status.py and the status page read the last one).
promote_state_dir = "/var/lib/bastion/promote"

# --- Packages --------------------------------------------------------------------------------
# Distribution packages only: the droplet's Ubuntu and the sandbox's Debian both carry them.
dev_packages = ["git", "nginx", "libnginx-mod-http-js", "nodejs", "npm", "curl", "iproute2", "restic",
                "openssh-client", "logrotate", "webhook", "python3", "python3-jsonschema"]
# apt lists older than this are refreshed before installing; a converged host never needs it.
apt_cache_max_age_seconds = 24 * 3600

# --- The dev environment ---------------------------------------------------------------------
dev_repo_url = "https://github.com/LupoGrigi0/Human-Adjacent-Coordination.git"
# The branch the team pushes to: main since v2 was merged into it (2025-12-23; v2 has not moved since).
# A feature branch (v2-messaging-dev...) works the same; switching an existing checkout to another
# branch keeps its local changes in a stash, as an update does.
dev_branch = "main"
# The dev environment's own place: on the droplet's own disk, not on the volume. The volume
# (/mnt/coordinaton_mcp_data) is production's data root, so anything there would be production's (and
# backed up as such), and a dev server filling its disk would fill the disk production writes to.
dev_home = "/srv/hacs-dev"
dev_checkout = "/srv/hacs-dev/checkout"
# V2_DATA_ROOT: where the V2 tools write. Unset, the app would write into production's root.
dev_data_dir = "/srv/hacs-dev/data"
# Unprivileged system user that owns the checkout and the data and runs the server.
dev_user = "hacs-dev"
# What the server may write of its checkout (the app creates and writes them at start): nothing else of it, so
# no commit changes its own code, its .git (which git, as the checkout's owner, reads) or node_modules.
dev_app_writes = ["logs", "data", "config"]
dev_unit = "mcp-coordination-dev.service"
# The proxy client and the team's skill already expect 3446 (see the diary).
dev_port = 3446
# Behind nginx: never 0.0.0.0, the app has no authentication of its own.
dev_listen_address = "127.0.0.1"
# Exactly "development" makes the app speak plain HTTP, which nginx proxies to.
dev_node_env = "development"
# More environment for the dev server, e.g. {"LOG_LEVEL": "debug"}. SSE_PORT, SSE_HOST, NODE_ENV
# come from their own settings; a V2_DATA_ROOT here must lie inside dev_data_dir.
dev_extra_environment = {}
# Secrets such as WAKE_API_KEY, one KEY=value a line. Created empty (0600) when missing and
# never overwritten, so values put there by hand survive every deploy.
dev_env_file = "/etc/hacs-dev/secrets.env"
# The event hub's secret of the dev server (HUB_SECRET_FILE; unset, the code takes production's path): made by
# the deploy, root's and readable by the service user only, so no commit can change or replace it (in the data
# directory it could).
dev_hub_secret_file = "/etc/hacs-dev/hub-secret"
# systemd's runtime directory of the dev unit (emptied when it stops): the commit a run started on
# is in its file "commit", since the app's /health names none.
dev_runtime_dir = "/run/hacs-dev"
# The V2 tools' catalog (roles/<id>/role.json, personalities/<id>/personality.json under V2_DATA_ROOT):
# without it take_on_role answers 'Role "Developer" not found'. A folder in this project, or
# "host:/path" for a data root on the host (such as the team's, /mnt/coordinaton_mcp_data). The first
# deploy seeds the dev data with it; later deploys add only missing files, never overwrite one the
# team edited. None: no seeding.
dev_catalog_source = "files/catalog"
# Public path of the dev endpoint under server_name; clients POST to the bare path.
dev_url_path = "/mcp/dev"

# --- Containment: the dev server runs the team's code, pushed by many hands --------------------
# Files. Today's app reads and writes /mnt/coordinaton_mcp_data/... directly (roles, messaging, vacation,
# shared-config, .hub-secret) and /mnt/.secrets, whatever V2_DATA_ROOT says. In the dev server's own mount
# namespace /mnt is an empty tmpfs and app_hardcoded_root is the dev data: production's files do not
# exist there, and the code's own paths lead to dev's data.
app_hardcoded_root = "/mnt/coordinaton_mcp_data"
# Network. The dev server has a network namespace of its own with only a loopback: none of production's
# loopback services (3444, Qdrant 6333, webhook 9000, the hub, instance channels 21000+, ejabberd, mail)
# nor the metadata address 169.254.169.254 exist for it, and it reaches nothing outside either. nginx
# reaches it through a socket systemd holds on dev_listen_address:dev_port (systemd-socket-proxyd in
# its namespace). The tools that call out (wake_instance's APIs, memory's Qdrant and embeddings,
# continue_conversation) fail in dev with their own error; the server runs on.
dev_proxy_unit = "hacs-dev-proxy"     # .socket listens, .service carries the connections in
# Resources. Every dev unit (the server, its proxy, the follow and restart path with npm ci, the backups
# and checks) runs in dev_slice, bounded for a droplet of 2 cores and 8 GB that production shares with
# Qdrant, ejabberd, the instances and mail: memory and processes are what take production down.
dev_slice = "hacs-dev.slice"
dev_memory_high = "1G"          # the slice is slowed (reclaimed) above this
dev_memory_max = "1536M"        # and killed above this: production's node, Qdrant and the rest keep ~6 GB
dev_server_memory_max = "1G"    # the server alone, so npm ci and a backup still fit beside it
dev_tasks_max = 256             # processes and threads of the whole slice (cgroup pids controller)
# RLIMIT_NPROC of the dev server (and so of what it spawns): holds where no pids controller does.
dev_process_limit = 128
dev_cpu_weight = 10             # production's units have 100: dev gets a tenth when both want the CPU
dev_cpu_quota = "100%"          # at most one of the two cores, however many loops it runs
# Scheduling that holds without the cpu and io controllers: the lowest nice, and the idle classes, in
# which the dev server (and all it spawns) gets the CPU and the disk only when nothing else wants them.
# Measured with a hostile commit (four busy loops, each in a session of its own, a balloon, a flood, a
# filler; production's /health, 300 requests a window): on any CPU at nice 0 its p50 went 1.4 -> 12.3 ms
# and its p99 7.0 -> 41 ms; on any CPU in the idle classes 2.4 -> 5.2 and 9.7 -> 34 ms; pinned (dev_cpus)
# at nice 0, 1.9 -> 2.9 and 8.0 -> 10.6 ms; pinned in the idle classes, 1.7 -> 2.3 and 8.0 -> 12.0 ms.
dev_nice = 19
dev_cpu_scheduling = "idle"
# The CPUs every dev unit may run on (sched_setaffinity: holds with no cpu or cpuset controller): the
# second of the droplet's two, so production and its services always have a core no dev process runs on,
# and dev never takes more than one core whatever it spawns: the measure that holds production's latency
# above (on both vCPUs, idle-class loops lengthen the tail from below the guest's scheduler). systemd's
# syntax ("1", "2-3"); None (null with --data) lets dev run anywhere (a one-core host). Checked against
# the host's CPUs.
dev_cpus = "1"
dev_io_scheduling = "idle"
dev_io_weight = 10              # production's default is 100; the oneshots also run in the idle IO class
# OOM: the kernel takes dev first, whatever the numbers say.
dev_oom_score_adjust = 1000
# Disk. The dev paths live on the droplet's own disk, not on production's volume; below this much free
# space on their filesystem the dev server is stopped (and not started again until there is room), a
# failed commit for the follow path. Checked every dev_bounds_interval.
dev_disk_floor = "2G"
dev_bounds_interval = "10s"
dev_bounds_script = "/usr/local/sbin/hacs-dev-bounds"
dev_bounds_unit = "hacs-dev-bounds"   # .service checks, .timer schedules
# The app's log files (its checkout's logs/): rotated above this size, this many kept, compressed.
dev_log_max = "20M"
dev_log_keep = 3
dev_logrotate_conf = "/etc/logrotate.d/hacs-dev"   # hacs-dev-bounds runs it (logrotate's own timer is daily)

# A process other than dev_unit listening on dev_port (the diary found the old dev server
# running from production's directory for eleven days) stops the deploy, which names it. True
# lets the deploy stop it instead. A process on production_port is never touched.
dev_stop_orphans = False

# --- What a copy of production's data may bring into dev (dev_data_from_production.py) --------------
# Production's data root holds production's secrets: each instance directory is that instance's Unix home
# (OAuth files, provider keys, bearer tokens; mail and transcripts), auth-keys/ and permissions/ its access,
# shared-config/ and .hub-secret root's (shared/notes/team-2026.md). Every commit the dev server runs reads
# what dev holds, so a copy takes, as they are, only what carries none:
dev_copy_as_is = ["roles", "personalities", "default", "template-project"]
# and, for a realistic copy, these scrubbed: every credential file below (globs on a path in an instance's
# home, or on a name) replaced by a placeholder of the same shape (JSON keeps its keys and numbers, an env
# file its names; letters become x, digits 0), and what matches dev_copy_leave_out not copied at all. The
# files named after the app's own: claude-code-setup.sh's OAuth file and Codex's auth.json, openfang's and
# the bots' .env, zeroclaw's bearer token; the other globs catch what an instance may have added.
dev_copy_scrubbed = ["instances"]
dev_copy_scrub = [".claude/.credentials.json", ".codex/auth.json", ".config/crush/*", "openfang/.env",
                  "zeroclaw/bearer-token.txt", ".env", ".env.*", "*.env", "*token*", "*credential*", "*secret*",
                  "auth.json", ".netrc", ".git-credentials"]
# Transcripts (Claude Code's session logs), mail, keys, shell history: personal or secret, and no tool needs them.
dev_copy_leave_out = [".claude/projects", ".claude/todos", ".claude/shell-snapshots", "*.jsonl", "mail", "Maildir",
                      ".ssh", ".gnupg", "*.key", "*.pem", "*.p12", ".bash_history", ".*_history"]
# Deliberately wider: entries of production's data root copied as they are although they may hold its
# secrets (e.g. ["projects"]). Each is named in the copy's report. Empty unless someone decides otherwise.
dev_copy_unscrubbed_deliberately = []

# --- Adopting the hand-made dev server (the live droplet as the diary left it) ---------------------
# The team's scripts/start-dev-server.sh runs the app by hand: root, no unit, SSE_HOST=0.0.0.0,
# V2_DATA_ROOT at the data root, secrets.env in the checkout; the diary wrote a location for
# dev_url_path into production's site. A deploy stops at that and names it. adopt=True takes it
# over instead (see the plan first with --dry): its data (v2_data_entries under its V2_DATA_ROOT) and
# secrets carried, archived first, originals left in place; the hand-made location replaced by the
# include; the old hook kept beside bastion's; the hand-made server stopped and the unit started in
# its place. On a host with nothing to adopt it does nothing.
adopt = False
# What the app keeps under V2_DATA_ROOT (its src/v2/config.js): what adoption carries.
v2_data_entries = ["instances", "projects", "roles", "personalities", "permissions", "auth-keys", "default",
                   "template-project", "wisdom", "wake-logs", "wake-jobs", "vacation"]
# The hand-made server's secrets, relative to the checkout (the team's script sources it).
adopt_secrets_file = "secrets.env"

# What a deploy does when the checkout has local changes that block the fast-forward (the app
# rewrites tracked files under data/):
#   "stash": keep them in a named `git stash` entry (listed with `git stash list`), say so, update;
#   "fail":  stop the deploy and name the changed files, touching nothing.
dev_local_changes = "stash"

# Restart path: root-owned, so the service user cannot change what it runs.
dev_restart_script = "/usr/local/sbin/hacs-dev-restart"
# Fast-forwards the checkout under the dev_local_changes policy (used by the deploy).
dev_update_script = "/usr/local/sbin/hacs-dev-update"
# Where a deploy puts the scripts only it runs (the nginx check, an adoption, a restore, opening the
# repository) for the one run: root-only, under /run, each removed once it has run.
deploy_run_dir = "/run/bastion-deploy"
# How long the restart path and the health gate wait for /health after a (re)start.
dev_health_timeout_seconds = 30
# How long a deploy or a hook run waits for another's dependency install (npm ci; one at a time, into one
# node_modules) before it fails naming it: a slow install finishes within it, a hung one is not waited
# for forever by an operator far away.
dev_dependencies_lock_wait_seconds = 900
# A commit's dependencies are installed in two units, so none of its code runs outside the dev server's
# containment: hacs-dev-fetch (the host's network, no script run, only package.json and package-lock.json in
# reach, and only if every package the lockfile names is a tarball of dev_npm_registry with its integrity),
# then hacs-dev-install (in the checkout, on the tree the fetch extracted: the dependencies' scripts with
# npm rebuild, then the project's own as npm ci runs them; no network). The tree is extracted once.
dev_npm_registry = "https://registry.npmjs.org/"
dev_npm_cache = "/var/lib/hacs-dev/.npm"
dev_npm_fetch_dir = "/var/lib/hacs-dev/npm-fetch"
# The node_modules the last install replaced, kept (one): a rollback to its lockfile is a rename, not an install.
dev_npm_previous_dir = "/var/lib/hacs-dev/npm-previous"
dev_install_scripts = "/usr/local/sbin/hacs-dev-install-scripts"
dev_fetch_unit = "hacs-dev-fetch.service"
dev_install_unit = "hacs-dev-install.service"
dev_lockfile_check = "/usr/local/sbin/hacs-dev-lockfile-check"
# Each half is stopped after this long (a postinstall that hangs or loops): the commit fails as npm-failed.
dev_install_timeout_seconds = 300

# --- Following the branch ------------------------------------------------------------------
# A timer fetches origin/dev_branch this often (systemd time span); when it moved, the checkout is
# fast-forwarded and goes through the restart path. A commit that does not come up healthy is
# rolled back to the previous one and remembered, so it is not retried until a newer push.
dev_follow_interval = "1min"
dev_follow_script = "/usr/local/sbin/hacs-dev-follow"
# Its settings (the script is Python, the same on every host: files/usr/local/sbin/hacs-dev-follow).
dev_follow_config = "/etc/bastion/follow.json"
# A commit that came up is judged before it counts as deployed (a failed verdict is rolled back): tools/list
# through the door, every tool's name and inputSchema as the model APIs take them (a valid JSON Schema, property
# keys ^[a-zA-Z0-9_.-]{1,64}$, no name twice), and one harmless tool call answered: this one, which only reads.
dev_verdict_script = "/usr/local/sbin/hacs-dev-verdict"
dev_verdict_probe_tool = "get_all_instances"
dev_follow_unit = "hacs-dev-follow"    # .service runs the script, .timer schedules it
# A delivery's path unit starts its look through again_unit@LOOK.service, ordered after LOOK.service: systemd merges a
# start into a oneshot's run under way, and a push delivered after that run's last comparison would wait for the timer.
again_unit = "bastion-again"
# --- Deploy on push: GitHub's webhook -------------------------------------------------------------
# GitHub sends a push event to https://server_name + dev_url_path + /_deploy/push (beside the endpoint it
# deploys, in bastion's own snippet: the team's /webhooks/ and their webhook.service stay as they are).
# A receiver of its own (Debian's and Ubuntu's webhook package, the tool the droplet already runs, as
# hacs-dev-webhook.service on 127.0.0.1) checks X-Hub-Signature-256 and starts the follow path at once;
# the follow timer stays, for a delivery GitHub never made.
# The shared secret: a file on this machine (0600), made by the first deploy; paste it into GitHub (docs/push-to-serve.md).
dev_webhook_secret_file = "backups/webhook-secret"
dev_webhook_config_dir = "/etc/bastion/webhook"        # on the host: the secret (root only), the hooks file
dev_webhook_unit = "hacs-dev-webhook"
dev_webhook_port = 9001                                # loopback only; the team's webhook.service has 9000
dev_webhook_push_script = "/usr/local/sbin/hacs-dev-webhook-push"
dev_webhook_max_body = "1m"                            # larger deliveries get 413 from nginx
# nginx's limit_req for the push path: a flood is refused (429) before it reaches the receiver.
dev_webhook_rate = "30r/m"
dev_webhook_burst = 10
# The team's view of the dev deploys, without SSH: https://server_name + dev_url_path + /_deploy/status
# (JSON; ?format=text or Accept: text/plain for people). Files the follow path writes and nginx serves,
# every value of dev_env_file redacted.
dev_status_dir = "/var/lib/bastion/deploy-status"
dev_status_script = "/usr/local/sbin/hacs-dev-status"

# --- Previews: one per branch (docs/previews.md) ---------------------------------------------------
# Every branch of dev_repo_url matching one of these globs (never dev_branch) gets a server of its own at
# https://server_name + preview_url_path + /SLUG (SLUG: the branch's name in [a-z0-9-], at most 40), behind the
# same door, with the dev server's containment, on the dev slice and dev_cpus: production's bounds hold with
# every preview busy. A push to such a branch (the webhook) creates or updates its preview through the follow
# path (fetch, install contained, start, health, verdict, rollback); deleting the branch retires it, its data
# archived once into the backup repository (tag preview-SLUG, never forgotten). Empty: no previews.
preview_branches = ["v2-*"]
preview_url_path = "/mcp/preview"
# One directory per preview: checkout/ (a git worktree of dev_checkout: objects shared), data/ (its own,
# seeded with dev_catalog_source's catalog, never with production's or dev's instances).
preview_root = "/srv/hacs-previews"
preview_state_dir = "/var/lib/bastion/previews"  # per preview: follow.state, verdicts/, the branch it serves
preview_runtime_dir = "/run/hacs-preview"        # the previews' doors: SLUG.sock, nginx's group may connect
preview_socket_group = "www-data"                # nginx's (Debian's and Ubuntu's); no preview's user is in it
preview_script = "/usr/local/sbin/hacs-previews"
preview_config = "/etc/bastion/previews.json"
preview_unit = "hacs-preview"                    # hacs-preview@SLUG.service; its door hacs-preview-door@SLUG.socket
preview_reconcile_unit = "hacs-previews"         # .service reconciles, .path on deliveries, .timer for missed ones
preview_reconcile_interval = "5min"              # git ls-remote: branches GitHub's deliveries never announced
# Idle costs nothing: a preview nobody has called for this long is stopped (its memory back to zero); the next
# request starts it again (cold start, measured: docs/figures.md). An open MCP stream is a connection: it keeps
# the preview up.
preview_idle_seconds = 300
# At most this many run at once; a request to one more is answered 503 naming this setting. Measured on the real
# app: an idle preview holds ~70 MB, a busy one well under dev_server_memory_max, and all of them share the dev
# slice (dev_memory_max), so 3 fit beside production and the dev server on 2 cores / 8 GB with room to spare.
preview_max = 3
# A preview with no push for this many days is retired like a deleted branch; its next push brings it back.
preview_ttl_days = 14
# The team's own check, after the verdict of every preview's commit (e.g. "node tests/api/run-all.js"): a shell
# command run in the preview's checkout and network namespace, with its containment, API_URL (and MCP_URL) its
# server's address there; a non-zero exit fails the verdict (its last lines recorded) and the commit is rolled
# back. None: the verdict alone.
preview_check_command = None
preview_check_timeout_seconds = 300

# --- The door: who may call the dev environment ------------------------------------------------
# The app authenticates nothing (a caller without Authorization passes; shared/notes/team-2026.md), so
# nginx checks every request to dev_url_path before the app sees it: a bearer token of the team's, one per
# person, issued and revoked by the operator (`./bastion token issue NAME`; printed once, on the operator's
# machine). The host keeps only each token's SHA-256 (its first 128 bits: nginx's map keys fit its default
# hash bucket), in a map nginx reads; njs computes the digest of the request's token (Debian's and Ubuntu's
# libnginx-mod-http-js, nginx's own module). Tokens begin mcp_access_token_, the shape the app itself lets
# through when the header reaches it. Open without one:
# dev_url_path/health (the app's fixed reply, nothing secret) and the webhook (its HMAC is its credential).
dev_door_tokens_file = "/etc/bastion/door/tokens.map"
dev_door_script = "/etc/nginx/bastion-door.js"
# bastion's own token on the host (root only): the health gate, the adoption's check and the tests call
# the door with it, as a header file curl reads (-H @FILE), never on a command line.
dev_door_bastion_header = "/etc/bastion/door/bastion.header"
# Refused requests (no token, a wrong or a revoked one) per client address: past the burst, 429.
dev_door_refusal_rate = "30r/m"
dev_door_refusal_burst = 10
# For one run of tokens.py: the person whose token is issued (a new one replaces theirs) or revoked.
token_issue = None
token_revoke = None

# Report format of status.py: "text" for people, "json" for scripts.
status_format = "text"

# --- Backups and recovery --------------------------------------------------------------------
# restic backs up the dev data and the secrets file (dev_env_file) into this repository. Off the host,
# so the backups survive the droplet: any restic URL, e.g. "sftp:backup@backup-host:/srv/restic/droplet",
# "rest:https://...", "s3:...". A plain path (or "local:/path") is a repository on the host itself: it
# does not survive the droplet, and status.py says so.
backup_repository = "/var/backups/bastion/restic"
# The repository's password, a file on this machine (the operator's): the first deploy creates it
# (0600) when neither this machine nor the host has one, and copies it to the host (0600, root).
# Without it the backups cannot be read: keep a copy somewhere other than this machine too.
backup_password_file = "backups/restic-password"
# For an sftp repository: the private key (a file on this machine) the host logs in to the backup host
# with, copied to the host 0600; put its .pub in the backup host's authorized_keys. None: root's own
# ssh setup on the host.
backup_ssh_key = None
# known_hosts line(s) of the backup host (a file on this machine), checked strictly. None: the host
# learns the backup host's key at its first connection.
backup_ssh_known_hosts = None
# Append-only from the droplet: True when the backup host was set up by backup_host.py (below). Whoever
# gets root on the droplet (the dev server runs code pushed by many hands there) could otherwise delete
# or rewrite every snapshot with the droplet's own key. With it, that key is forced on the backup host
# into `rclone serve restic --stdio --append-only` for the repository's path: the droplet adds snapshots
# and reads them (a restore works as before), and cannot delete or overwrite one. Retention and the
# check then run on the backup host, by its own timers, never with the droplet's key; the droplet stops
# pruning and checking. Needs an sftp backup_repository and backup_ssh_key (the key the host forces).
# What stays open: root on the droplet reads the backups (it holds the password), and can add junk or
# stop backing up (the dead man's switch below says so).
backup_append_only = False
# More environment for restic (S3 or B2 keys...): a KEY=value file on this machine, copied 0600.
backup_credentials_file = None
# On the host: root-only copies of the above, and restic with them (e.g. `bastion-restic snapshots`).
backup_config_dir = "/etc/bastion/backup"
backup_restic_command = "/usr/local/sbin/bastion-restic"
# restic's own cache (root's home is out of the confined backup units' reach).
backup_cache_dir = "/var/cache/bastion-restic"
# The host name snapshots are filed under: the droplet's name rather than the machine's, so a rebuilt
# droplet carries on with the same series (restore_from=latest finds it).
backup_snapshot_host = "smoothcurves.nexus"
# A systemd timer runs the backup script: a snapshot of dev_data_dir and dev_env_file (the server is
# paused only while the data is copied, milliseconds), then `restic forget --prune` with
# dev_backup_retention. Snapshots labelled by a restore, a snapshot or an adoption are never forgotten.
dev_backup_script = "/usr/local/sbin/hacs-dev-backup"
dev_backup_unit = "hacs-dev-backup"    # .service runs the script, .timer schedules it
dev_backup_schedule = "hourly"         # systemd OnCalendar= syntax
# restic forget's --keep-* policy: hourly, daily, weekly, monthly, yearly, last.
dev_backup_retention = {"hourly": 48, "daily": 14, "weekly": 8}
# A timer of its own runs `restic check`, reading this share of the stored data each time (e.g. "10%",
# "1/7"), so corruption is found even where no file changes.
dev_backup_check_script = "/usr/local/sbin/hacs-dev-backup-check"
dev_backup_check_unit = "hacs-dev-backup-check"    # .service runs the script, .timer schedules it
dev_backup_check_schedule = "daily"
dev_backup_check_read_data = "10%"
# Production's data goes into the same repository (tag "production"), by the same policy, read only: its
# backup never stops, pauses or restarts production. Every 15 minutes, not hourly as dev's: production is
# written all day by many instances (a lost hour is an hour of every instance's work), and its snapshots are
# incremental (docs/figures.md: what one costs). Retention thins them to dev_backup_retention's shape.
# Installed by deploy.py wherever production's data root (as the host shows it) exists; production.py takes
# it back on a new host with production_restore_from.
production_backup_script = "/usr/local/sbin/hacs-production-backup"
production_backup_unit = "hacs-production-backup"
production_backup_schedule = "*:0/15"   # systemd OnCalendar= syntax
# Set for one run of production.py to fill production_data_dir (when it holds none of the app's data yet)
# before production starts:
# "latest" (the newest routine production snapshot of backup_snapshot_host) or a snapshot id.
production_restore_from = None
# A dead man's switch: URLs in healthchecks.io's convention (healthchecks.io, its self-hosted server,
# Uptime Kuma's push monitors, Cronitor), one check each. Each run pings URL/start, then URL on success or
# URL/fail with its result line; a missed ping is what alerts the operator when the droplet itself is gone.
# None: nothing is sent. A ping that fails never fails the run.
backup_ping_url = None               # the dev data's hourly backup
production_backup_ping_url = None    # production's data's backup
backup_check_ping_url = None         # the daily check of the repository
dev_rollback_ping_url = None         # the follow path: URL on a deploy, URL/fail on a rollback
# The backup host (backup_host.py, BASTION_TARGET=its address): backup_repository's user and path, the
# droplet's key (backup_ssh_key's public half) forced into the append-only server, restic and rclone, and
# the repository's upkeep by timers of its own, run as the repository's user with the operator's password
# (backup_password_file, copied root-only): `restic forget --prune` with dev_backup_retention over the
# routine snapshots of every host and series (labelled ones are never forgotten), and `restic check`
# reading dev_backup_check_read_data (pinging backup_check_ping_url). The backup host is trusted: it holds
# the password, as the operator's machine does.
backup_host_config_dir = "/etc/bastion/backup-host"
backup_host_state_dir = "/var/lib/bastion-backup-host"
backup_host_prune_script = "/usr/local/sbin/bastion-repository-prune"
backup_host_prune_unit = "bastion-repository-prune"   # .service runs the script, .timer schedules it
backup_host_prune_schedule = "daily"
backup_host_prune_ping_url = None
backup_host_check_script = "/usr/local/sbin/bastion-repository-check"
backup_host_check_unit = "bastion-repository-check"
backup_host_check_schedule = "daily"
backup_host_packages = ["restic", "rclone"]
# Tar archives (the adoption's, and those of before restic, with secrets in its secrets/). They stay where
# they are, and each is imported once into the repository (tag "imported"), so they leave the host.
dev_backups_dir = "/srv/hacs-dev/backups"
# A restore (restore_from, dev_data_from_production.py) replaces dev_data_dir and backs up a non-empty
# dev data directory first (label pre-restore). Production is only read.
# Set for one run to rebuild with data: "latest" (the newest routine snapshot of backup_snapshot_host)
# or a snapshot id from the repository; or an archive of the tar days ("backups/....tar.gz" on this
# machine, "host:/path" on the host). Restored before the service starts, once: a rerun with the same
# snapshot or archive changes nothing, and "latest" is taken only by a host that restored none yet.
restore_from = None
# Where files for the operator go on this machine (one folder per host).
local_backups_dir = "backups"
# On a host without production's site (a brand-new droplet) the dev endpoint gets a site of its
# own, with tls_certificate when it exists, else with this clearly named self-signed one.
# (selfsigned-NAME.crt and .key in this directory; production.py's sites on a new host likewise).
selfsigned_certificates_dir = "/etc/ssl/bastion"
dev_nginx_site = "/etc/nginx/sites-available/hacs-dev"

# --- nginx -----------------------------------------------------------------------------------
# Dev-owned snippet, included into production's TLS server block by one include line.
dev_nginx_snippet = "/etc/nginx/snippets/hacs-dev.conf"
# What the snippet needs at nginx's http level (the push path's rate limit, the status page's form).
dev_nginx_http_conf = "/etc/nginx/conf.d/hacs-dev.conf"
# Where bastion keeps its own bookkeeping on the host: the state files its scripts and playbooks leave for
# each other, each named in docs/state.md (who writes it, who reads it, what it holds).
bastion_state_dir = "/var/lib/bastion"
# Streaming MCP sessions stay open for a long time.
dev_proxy_timeout_seconds = 3600

# pyinfra tells a group data file's settings from its imports by parsing the file once per name (190 parses,
# 0.17 s of every run) unless the file names them: every name here without a leading underscore is a setting.
__all__ = [name for name in dir() if not name.startswith("_")]
