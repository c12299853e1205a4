import { CHANNELS, PUSH_SERVICE_NAMES } from '../notify/channels/index.js';

/**
 * An hb.yaml that sets every key to its default, one comment each: shown by the docs and by
 * `hbd check-config --example`. A test checks that it parses to exactly the defaults.
 */
const otherChannels = CHANNELS.filter((channel) => !channel.pushService)
  .map((channel) => channel.name)
  .join(', ')
  .replace(/, (?=[^,]*$)/, ' and ');

export const DEFAULT_CONFIG_YAML = `# hbd configuration. Every key is optional; these are the defaults.
# Relative paths are taken from this file's directory; ~ is the home directory.
# Any key can be overridden by the environment: HBD_HB_PORT=6000, HBD_JOURNAL__PATH=/x.

# UDP address and port heartbeats arrive on ("::" also accepts IPv4).
hb_host: "::"
hb_port: 50003

# HTTP API and WebSocket address and port.
hbd_host: 127.0.0.1
hbd_port: 50004

# SQLite state file (default: $XDG_STATE_HOME/hbd/hbd.sqlite if that variable is set).
pickfile: ~/.local/state/hbd/hbd.sqlite
# Where hbd keeps its state: sqlite (the file above), a PostgreSQL URL that several hbd nodes
# share (postgresql://hbd:PASSWORD@db.example.net:5432/hbd, see docs/cluster.md), or a map of a
# driver and its options, such as {driver: sqlite, path: /var/lib/hbd/state.sqlite}.
store: sqlite
# With a shared store: this node's name (default: the machine's host name) and the leader lease.
cluster:
  # node: hbd1
  lease: 10

# Log file; null logs to stderr.
logfile: null
# Log format: text or json.
logfmt: text
# Least severe level logged: debug, info, warn or error.
log_level: info

# Seconds between heartbeats when a heartbeat does not say (its "every" field).
interval: 60
# Seconds past the interval before a late host counts as down.
grace: 30

# Signed heartbeats: off (ignore signatures), optional (check those that are signed), required.
auth: optional
# Secrets by host name, "*" for every host; a map of key id to secret allows key rotation:
#   web1: 6f1c0e8a93b247d5a0e1
#   "*": {k1: 0b9d7c2e5f8a4b61, k2: 4c3e8f0a1d6b9e27}
keys: {}
# Seconds a signed heartbeat's clock may differ from ours.
max_skew: 300
# Networks whose unsigned heartbeats are accepted (loopback, private, link-local); from
# anywhere else a heartbeat must be signed. Add 100.64.0.0/10 for a Tailscale network.
unsigned_networks: [127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, "::1/128", "fc00::/7", "fe80::/10"]

# What outsiders can make hbd spend (docs/security.md says how to size each).
limits:
  # Hosts in all; beyond, new hosts not signed with a configured key are dropped as "limit".
  max_hosts: 100000
  # New hosts a minute from heartbeats not signed with a configured key.
  new_hosts_per_minute: 1000
  # Bytes of msg + extra fields a host stores; a larger heartbeat is dropped as "limit".
  host_bytes: 4096
  # Stored events per host (history.max_events bounds them all).
  events_per_host: 10000
  # A host changing status this many times within the window is stored as one flapping episode.
  status_flap_threshold: 6
  status_flap_window: 600
  # Live-feed connections and full host lists a minute per client address.
  snapshots_per_minute: 30
  # A client this many bytes or seconds behind is cut off.
  client_buffer_bytes: 8388608
  client_stall_seconds: 30

# Bearer token (16+ characters) for the API's write calls; null disables them.
api_token: null
# Bearer token (16+ characters) that reads but never writes: for Prometheus or a status
# script under read_access: login.
read_token: null

# Logins for the dashboard and the API, each with a hash made by \`hbd passwd\` and a role:
# viewer reads, admin also writes (silences, forgetting hosts, DNS sync).
#   alice: {password: "scrypt$15$8$1$…", role: admin}
auth_users: {}
# Reading the dashboard, the read API and /metrics: public, or login (a user, api_token or read_token).
read_access: public

# Serve HTTPS with this certificate and key (set both or neither).
tls_cert: null
tls_key: null

# Per-host interval and grace by exact name or glob (* and ?); exact names win, then longer globs:
#   web*: {interval: 10}
#   "*.lab": {interval: 300, grace: 600}
hosts: {}

# JSON-lines journal of every accepted heartbeat, rotated by size; null turns it off. Short form: journal: /var/lib/hbd/journal.log
#   journal: {path: journal.log, max_bytes: 67108864, keep: 5}
journal: null

# How long events are kept: days, and at most this many events.
history:
  days: 30
  max_events: 1000000

# Bytes of UDP receive buffer to ask the OS for (0 keeps the OS default).
udp_rcvbuf: 8388608

# Per-host series on /metrics (docs/prometheus.md).
metrics:
  # Host fields (sent in heartbeats, such as site=ams1) added as labels to each host's series:
  #   host_labels: [site, role]
  host_labels: []
  # Hosts with series of their own, the first by name; the rest are counted in hbd_host_series_dropped.
  max_hosts: 10000

# Which push services notifications go to: ${PUSH_SERVICE_NAMES.join(', ')}, all (every one configured
# under notify) or none. ${otherChannels} are used whenever they are configured.
pushsrv: all

# Dynamic DNS: publish each host's address as <host>.<dyndomain> (A and AAAA).
dyndomains: []
nsupdate_bin: /usr/bin/nsupdate
dns:
  # rfc2136 speaks the protocol from hbd itself; nsupdate runs nsupdate_bin.
  method: rfc2136
  # The primary server that takes updates.
  server: 127.0.0.1
  port: 53
  # The zone to update, when it is not the dyndomain itself.
  zone: null
  # TSIG key: name and base64 secret, or the file tsig-keygen writes.
  tsig_name: null
  tsig_secret: null
  tsig_file: null
  tsig_algorithm: hmac-sha256
  ttl: 60
  # When a host goes down: keep its records, or delete them.
  on_down: keep
  # Publish for hosts whose heartbeats are not signed; publish private addresses.
  allow_unsigned: false
  allow_private: false
  # Seconds between re-sending unchanged records, and the most a retry waits.
  refresh: 86400
  retry_max: 30

# Notifications (docs/notify.md). No channel is on until it is configured below.
notify:
  # Seconds to wait for more changes, so that hosts changing together arrive as one message.
  group_wait: 10
  # A host field (a heartbeat label such as role) whose values get messages of their own; null: one group.
  group_by: null
  # Seconds between reminders while a host stays down; 0 sends none.
  repeat: 0
  # Seconds after hbd starts in which down and status messages are held, while hosts report in.
  restart_grace: 60
  # A host whose first heartbeat already reports warn or fail is announced, like any other problem.
  announce_new_problems: true
  # Seconds a message is retried before it is given up; retries wait retry_min, doubling up to retry_max.
  deadline: 86400
  retry_min: 5
  retry_max: 300
  # Messages per channel per minute (0: no limit), and sends in flight per channel.
  rate_limit: 20
  concurrency: 2
  # When this share of the hosts, and at least min_hosts of them, go silent together, the likelier
  # story is hbd's own network: one message instead of one per host. false turns it off.
  isolation:
    share: 0.5
    min_hosts: 10
  # A host changing state threshold times within window seconds is flapping and gets one message;
  # it settles when its changes within the window fall to settle. false turns it off.
  flapping:
    window: 600
    threshold: 6
    settle: 2
  # Seconds a channel must keep failing before the other channels are told.
  channel_alert_after: 300
  # Channels (each also takes timeout, in seconds):
${CHANNELS.map((channel) => `  #   ${channel.name}: ${channel.example}\n`).join('')}
# Jobs that report over HTTP (cron, backups, CI) by host name, each with its token (10+ characters;
# a Healthchecks.io UUID or Uptime Kuma push token works as is) and optional interval and grace
# (docs/push.md). They ping /ping/<token>, /<token> or /api/push/<token>.
#   backup-db: {token: 0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20, interval: 86400, grace: 3600}
push: {}
# Enables /ping/<push_ping_key>/<host name>, and ?create=1 for hosts not seen yet; null: off.
push_ping_key: null
`;
