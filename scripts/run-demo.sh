#!/bin/sh
# `make run`: the daemon, `windlass serve`, on the bundled manifests, with the embedded cluster
# as the target.
#
# The manifests are committed to a demo repository under the state directory, so each release
# is a commit, as in a team's repository, announced to the daemon by a signed webhook. The
# daemon logs every sync, rollout step and drift finding; the script shows what
# /api/v1/applications says between the steps. The story:
#   1. the daemon syncs the OpenStack control plane (a first deploy: no canary steps), the
#      built-in policies judging it; a commit that makes a service privileged is refused;
#   2. a Keystone release goes out as a canary, gated on Prometheus' view of its success rate,
#      and is promoted;
#   3. a Nova API release whose new version answers 30 % of requests with errors goes out the
#      same way; its gate fails and the daemon rolls the release back on its own;
#   4. `windlass history` and `windlass cluster get` run beside the daemon (it owns the state
#      directory: they read its revision store and its Kubernetes API); SIGTERM stops it.
# Prometheus (Debian's package) runs for the duration on 127.0.0.1:9090 and scrapes the
# daemon's /metrics (its own metrics and the cluster's simulated workload metrics).
set -eu

windlass=${WINDLASS:-.build/debug/windlass}
state=${WINDLASS_STATE_DIR:-.windlass}
demo="$state/demo-repo"
# The demo repository's absolute path, for the config (WINDLASS_STATE_DIR may be either).
case "$demo" in /*) demo_path="$demo" ;; *) demo_path="$(pwd)/$demo" ;; esac
port=${WINDLASS_DEMO_PORT:-8080}
kube_port=${WINDLASS_DEMO_KUBE_PORT:-6443}
api="http://127.0.0.1:$port/api/v1"
prometheus_pid=""
serve_pid=""

cleanup() {
    for pid in $serve_pid $prometheus_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

# GET or POST the daemon's API with Python's standard library (no curl on a fresh machine).
http() {
    python3 - "$@" <<'PY'
import hashlib, hmac, json, os, sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request(url, data=body, method=method)
if body is not None and "/webhooks/" in url:
    secret = os.environ["WINDLASS_WEBHOOK_SECRET"].encode()
    request.add_header("X-Windlass-Signature-256", "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest())
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        sys.stdout.write(response.read().decode())
except urllib.error.HTTPError as error:
    sys.stdout.write(error.read().decode())
PY
}

# Waits until the application's JSON satisfies a Python expression over `app`.
wait_for() {
    python3 - "$api/applications/openstack" "$1" "${2:-120}" <<'PY'
import json, sys, time, urllib.request
url, condition, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.time() + timeout
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            app = json.load(response)
        if eval(condition):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("timed out waiting for: " + condition)
PY
}

summary() {
    python3 - "$api/applications/openstack" <<'PY'
import json, sys, urllib.request
app = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))
last = app.get("lastSync") or {}
print("GET /api/v1/applications/openstack: syncStatus=%s health=%s syncedRevision=%s lastSync=%s"
      % (app["syncStatus"], app["health"], (app["syncedRevision"] or "-")[:12], last.get("outcome", "-")))
PY
}

commit() {
    git -C "$demo" add -A
    git -C "$demo" -c user.name="Windlass demo" -c user.email=demo@windlass.dev -c commit.gpgsign=false commit -qm "$1"
    git -C "$demo" log --oneline -1
}

push() {
    http POST "$api/webhooks/generic" "{\"repository\": \"$demo_path\"}" > /dev/null
}

# Each run starts from an empty embedded cluster and history.
rm -rf "$state" "$state-client"
mkdir -p "$state"
"$windlass" validate manifests --list

step "A repository of manifests (a commit per release)"
mkdir -p "$demo"
cp -R manifests "$demo/"
git -C "$demo" init -q -b main
commit "OpenStack control plane, 2024.1"

step "Policies: the built-in pack (policies/) on the manifests; nova-compute's exception shows as SKIP"
"$windlass" policy check --source "$demo" | grep -v '^WARN'

step "Prometheus on 127.0.0.1:9090, scraping the daemon's /metrics"
mkdir -p "$state/prometheus"
cat > "$state/prometheus/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: windlass
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YAML
prometheus --config.file="$state/prometheus/prometheus.yml" --storage.tsdb.path="$state/prometheus/data" \
    --web.listen-address=127.0.0.1:9090 --log.level=error > "$state/prometheus/log" 2>&1 &
prometheus_pid=$!
echo "prometheus running (pid $prometheus_pid)"

step "windlass serve: the daemon, with the demo repository as its application (its log follows)"
WINDLASS_WEBHOOK_SECRET=${WINDLASS_WEBHOOK_SECRET:-demo-webhook-secret}
export WINDLASS_WEBHOOK_SECRET
cat > "$state/windlass.yaml" <<YAML
apiVersion: windlass.dev/v1
kind: Config
server:
  listen: 127.0.0.1:$port
  webhooks:
    generic: {secret: {env: WINDLASS_WEBHOOK_SECRET}}
clusters:
  embedded:
    api: {listen: 127.0.0.1:$kube_port}
applications:
  - name: openstack
    source: {repo: "$demo_path", ref: main, path: manifests}
    destination: {cluster: embedded, namespace: openstack}
    syncPolicy: {automated: true, prune: true, selfHeal: false}
    interval: 3m
    drift: {schedule: "*/10 * * * *"}
    policies: builtin
YAML
cat "$state/windlass.yaml"
"$windlass" serve --config "$state/windlass.yaml" --state-dir "$state" --label openstack.org/compute-node=true &
serve_pid=$!
wait_for 'app["syncStatus"] == "Synced" and app["health"] == "Healthy"'
summary
ui_token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$state/daemon.json")
echo
echo "The web UI: http://127.0.0.1:$port/ (log in with this run's token: $ui_token)"
echo "It follows the rest of the demo live; KEEP_SERVING=1 make run leaves the daemon running at the end."

step "kubectl: the embedded cluster's Kubernetes API, served beside the daemon (KUBECONFIG=$state/kubeconfig)"
if command -v kubectl >/dev/null 2>&1; then
    KUBECONFIG="$state/kubeconfig" kubectl --cache-dir "$state/kube-cache" get pods -A
else
    echo "(kubectl is not installed; any kubectl works with KUBECONFIG=$state/kubeconfig)"
fi

step "The same cluster as a Kubernetes destination: a plan through the kubeconfig, from a state directory of its own"
"$windlass" plan --kubeconfig "$state/kubeconfig" --source "$demo" --app openstack -n openstack --state-dir "$state-client" --no-policies | tail -n 1

step "A guardrail: a commit that makes glance-api privileged is refused, and nothing is applied"
sed -i 's|            allowPrivilegeEscalation: false|            allowPrivilegeEscalation: false\n            privileged: true|' "$demo/manifests/30-services/glance-api.yaml"
commit "glance-api: privileged (a mistake)"
push
wait_for '(app["lastSync"] or {}).get("outcome") == "refused"'
summary
git -C "$demo" -c user.name="Windlass demo" -c user.email=demo@windlass.dev -c commit.gpgsign=false revert --no-edit HEAD >/dev/null
git -C "$demo" log --oneline -1
push
wait_for 'app["syncStatus"] == "Synced"'

step "Release: Keystone 2024.2, as a canary gated on its success rate"
sed -i 's|keystone:2024.1-ubuntu-jammy|keystone:2024.2-ubuntu-jammy|' "$demo/manifests/20-identity/keystone.yaml"
commit "keystone 2024.2"
push
wait_for 'app["syncStatus"] == "Synced" and app["syncedRevision"] == "'"$(git -C "$demo" rev-parse HEAD)"'"'
summary

step "Release: Nova API 2024.2, whose new version answers 30 % of requests with errors"
sed -i -e 's|nova-api:2024.1-ubuntu-jammy|nova-api:2024.2-ubuntu-jammy|' \
    -e 's|sim.windlass.dev/error-rate: "0"|sim.windlass.dev/error-rate: "0.3"|' "$demo/manifests/30-services/nova-api.yaml"
commit "nova-api 2024.2"
push
wait_for '(app["lastSync"] or {}).get("outcome") == "failed"'
summary

step "History: the failed release, and the rollback Windlass made on its own (read beside the daemon, from the revision store)"
"$windlass" history --app openstack --state-dir "$state"

step "The workloads (beside the daemon, through its Kubernetes API)"
for kind in deployments statefulsets daemonsets virtualmachines; do
    "$windlass" cluster get "$kind" -A --state-dir "$state"
done

if [ "${KEEP_SERVING:-0}" = "1" ]; then
    step "The daemon keeps running: http://127.0.0.1:$port/ (token $ui_token); Ctrl-C stops it"
    wait "$serve_pid"
    exit 0
fi

step "SIGTERM: the daemon stops"
kill -TERM "$serve_pid"
wait "$serve_pid"
serve_pid=""
echo "windlass serve exited 0"
echo
echo "To look around with kubectl: $windlass cluster serve --state-dir $state &"
echo "                              KUBECONFIG=$state/kubeconfig kubectl get pods -A"
