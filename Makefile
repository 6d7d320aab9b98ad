# Windlass: `make run` and `make test` work as root on a fresh Debian machine with Swift.

SWIFT ?= swift
# System packages the build and the tests need (Debian names).
APT_PACKAGES := libgit2-dev libyaml-dev libsqlite3-dev pkg-config git openssh-server python3 python3-venv prometheus chromium chromium-driver
BENCH_ARGS ?=

.PHONY: deps pydeps build run test bench format clean

## deps: install the missing system packages with apt-get (as root, or through sudo)
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## pydeps: the Python peers and clients the tests and the bench use, in .venv/ (from PyPI):
## kubernetes-validate (a validation peer), the official Kubernetes client and client-go
## (kubernetes-lite), both as clients of `windlass cluster serve`; selenium drives chromium
## through the web UI
PYTHON_PACKAGES := kubernetes-validate==1.37.0 kubernetes==37.0.2 kubernetes-lite==0.1.0 selenium==4.51.0
PYDEPS_STAMP := .venv/.pydeps-$(shell echo '$(PYTHON_PACKAGES)' | cksum | cut -d' ' -f1)
pydeps: deps
	@test -f $(PYDEPS_STAMP) || { test -x .venv/bin/pip || python3 -m venv .venv; .venv/bin/pip install -q $(PYTHON_PACKAGES) && touch $(PYDEPS_STAMP); }

build: deps
	$(SWIFT) build --product windlass

## run: the main job on the bundled manifests with the embedded default (scripts/run-demo.sh):
## validate, plan and sync the OpenStack control plane into an empty embedded cluster in
## .windlass/, report drift, then two releases as canaries gated by Prometheus: Keystone's
## passes and is promoted, Nova API's fails and is rolled back; then the history
run: build
	./scripts/run-demo.sh

## test: the whole test suite. The daemon's suites (end to end, and in process) and the
## Kubernetes API's (a server process driven by kubectl and client libraries) run on their own,
## each group after the other, after the rest: their latency bounds (a webhook synced within 2 s, an abort within a poll)
## measure the daemon, not a machine whose two cores every other suite is busy with.
DAEMON_SUITES = ServeTests|DaemonTrustTests|PollingTests|DaemonSoakTests|DaemonLifetimeTests|KustomizeDaemonTests
KUBE_API_SUITES = KubectlScenarioTests|KubeAPIClientTests|KubeDestinationTests|KubeClientCredentialTests
# Daemons against a Kubernetes API, with bounds in seconds (a leader's takeover, a change seen
# through a watch): alone, so the other suites' load does not stretch them.
KUBE_DAEMON_SUITES = DaemonOnKubernetesTests|LeaderElectionTests
# The client under injected faults (10 s of downtime, 429s): its load slowed the others' stops.
KUBE_FAULT_SUITES = KubeFaultTests
# The web UI in chromium: a browser is heavy, so it runs with nothing else.
UI_SUITES = WebUITests
# Forecasts compared with syncs on the real clock: alone, so other suites' load does not slow the real sync.
TIMED_SUITES = ForecastRealTimeTests
test: deps pydeps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip "$(DAEMON_SUITES)|$(KUBE_API_SUITES)|$(KUBE_DAEMON_SUITES)|$(KUBE_FAULT_SUITES)|$(UI_SUITES)|$(TIMED_SUITES)"
	$(SWIFT) test --skip-build --filter "$(DAEMON_SUITES)"
	$(SWIFT) test --skip-build --filter "$(KUBE_API_SUITES)"
	$(SWIFT) test --skip-build --filter "$(KUBE_DAEMON_SUITES)"
	$(SWIFT) test --skip-build --filter "$(KUBE_FAULT_SUITES)"
	$(SWIFT) test --skip-build --filter "$(UI_SUITES)"
	$(SWIFT) test --skip-build --filter "$(TIMED_SUITES)"

## bench: release-build benchmarks, peers measured in the same run; rewrites BENCHMARKS.md
bench: deps pydeps
	$(SWIFT) build -c release --product windlass
	$(SWIFT) build -c release --product windlass-bench
	.build/release/windlass-bench --output BENCHMARKS.md $(BENCH_ARGS)

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
