#!/bin/sh
# `make run`: the main job on the bundled manifests, with the embedded cluster as the target.
#
# The manifests are committed to a demo repository under the state directory, so each release
# is a commit, as in a team's repository. The story:
#   1. the OpenStack control plane is planned and synced (a first deploy: no canary steps);
#   2. a Keystone release goes out as a canary, gated on Prometheus' view of its success rate,
#      and is promoted;
#   3. a Nova API release whose new version answers 30 % of requests with errors goes out the
#      same way; its gate fails and Windlass rolls the release back on its own.
# Prometheus (Debian's package) runs for the duration on 127.0.0.1:9090 and scrapes the sync's
# simulated workload metrics on 127.0.0.1:9464.
set -eu

windlass=${WINDLASS:-.build/debug/windlass}
state=${WINDLASS_STATE_DIR:-.windlass}
demo="$state/demo-repo"
prometheus_pid=""

cleanup() {
    if [ -n "$prometheus_pid" ]; then
        kill "$prometheus_pid" 2>/dev/null || true
        wait "$prometheus_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

# Each run starts from an empty embedded cluster and history.
rm -rf "$state"
mkdir -p "$state"
"$windlass" validate manifests --list

step "A repository of manifests (a commit per release)"
mkdir -p "$demo"
cp -R manifests "$demo/"
git -C "$demo" init -q -b main
commit() {
    git -C "$demo" add -A
    git -C "$demo" -c user.name="Windlass demo" -c user.email=demo@windlass.dev -c commit.gpgsign=false commit -qm "$1"
    git -C "$demo" log --oneline -1
}
commit "OpenStack control plane, 2024.1"

"$windlass" cluster init --state-dir "$state" --label openstack.org/compute-node=true

step "Plan: what a sync would change"
"$windlass" plan --source "$demo" --state-dir "$state" --no-color
step "Sync: wave by wave, each waited on until healthy"
"$windlass" sync --source "$demo" --state-dir "$state"
step "Drift: none, right after a sync"
"$windlass" drift --source "$demo" --state-dir "$state"

step "Policies: the built-in pack (policies/) on the manifests; nova-compute's exception shows as SKIP"
"$windlass" policy check --source "$demo" | grep -v '^WARN'

step "A guardrail: a commit that makes glance-api privileged is refused, and nothing is applied"
sed -i 's|            allowPrivilegeEscalation: false|            allowPrivilegeEscalation: false\n            privileged: true|' "$demo/manifests/30-services/glance-api.yaml"
commit "glance-api: privileged (a mistake)"
if "$windlass" sync --source "$demo" --state-dir "$state"; then
    echo "unexpected: a privileged container was synced" >&2
    exit 1
fi
git -C "$demo" -c user.name="Windlass demo" -c user.email=demo@windlass.dev -c commit.gpgsign=false revert --no-edit HEAD >/dev/null
git -C "$demo" log --oneline -1

step "Prometheus on 127.0.0.1:9090, scraping the cluster's simulated traffic"
mkdir -p "$state/prometheus"
cat > "$state/prometheus/prometheus.yml" <<'YAML'
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: windlass
    static_configs: [{targets: ["127.0.0.1:9464"]}]
YAML
prometheus --config.file="$state/prometheus/prometheus.yml" --storage.tsdb.path="$state/prometheus/data" \
    --web.listen-address=127.0.0.1:9090 --log.level=error > "$state/prometheus/log" 2>&1 &
prometheus_pid=$!
echo "prometheus running (pid $prometheus_pid)"

step "Release: Keystone 2024.2, as a canary gated on its success rate"
sed -i 's|keystone:2024.1-ubuntu-jammy|keystone:2024.2-ubuntu-jammy|' "$demo/manifests/20-identity/keystone.yaml"
commit "keystone 2024.2"
"$windlass" plan --source "$demo" --state-dir "$state" --no-color | tail -n 4
"$windlass" sync --source "$demo" --state-dir "$state" --metrics-listen 127.0.0.1:9464

step "Release: Nova API 2024.2, whose new version answers 30 % of requests with errors"
sed -i -e 's|nova-api:2024.1-ubuntu-jammy|nova-api:2024.2-ubuntu-jammy|' \
    -e 's|sim.windlass.dev/error-rate: "0"|sim.windlass.dev/error-rate: "0.3"|' "$demo/manifests/30-services/nova-api.yaml"
commit "nova-api 2024.2"
if "$windlass" sync --source "$demo" --state-dir "$state" --metrics-listen 127.0.0.1:9464; then
    echo "unexpected: the failing canary was promoted" >&2
    exit 1
fi

step "History: the failed release, and the rollback Windlass made on its own"
"$windlass" history --state-dir "$state"

step "The workloads"
for kind in deployments statefulsets daemonsets virtualmachines; do
    "$windlass" cluster get "$kind" -A --state-dir "$state"
done
