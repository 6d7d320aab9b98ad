#!/usr/bin/env python3
"""Writes the policy corpus (Tests/Fixtures/policy-corpus/, one manifest per file, a passing
and a failing case for each Checkov check of the built-in pack) and the pack's tests
(policies/*.test.yaml). Each case names the verdict Checkov's check documents; the recorded
output of Checkov itself (scripts/checkov-corpus.sh) is what the Swift test compares with.

Run from the repository root: python3 scripts/policy-corpus.py
"""
import copy
import os
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, 'Tests', 'Fixtures', 'policy-corpus')
POLICIES = os.path.join(ROOT, 'policies')


def hardened_container(name='app'):
    return {
        'name': name,
        'image': 'registry.example/shop/web:1.4.2',
        'ports': [{'containerPort': 8080}],
        'livenessProbe': {'httpGet': {'path': '/healthz', 'port': 8080}},
        'readinessProbe': {'httpGet': {'path': '/ready', 'port': 8080}},
        'resources': {'requests': {'cpu': '100m', 'memory': '128Mi'}, 'limits': {'cpu': '500m', 'memory': '256Mi'}},
        'securityContext': {'allowPrivilegeEscalation': False, 'readOnlyRootFilesystem': True, 'capabilities': {'drop': ['ALL']}},
    }


def hardened_pod_spec():
    return {
        'automountServiceAccountToken': False,
        'securityContext': {'runAsNonRoot': True, 'runAsUser': 10001, 'seccompProfile': {'type': 'RuntimeDefault'}},
        'containers': [hardened_container()],
    }


def pod(name, spec=None, metadata=None):
    meta = {'name': name, 'namespace': 'shop'}
    meta.update(metadata or {})
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': meta, 'spec': spec or hardened_pod_spec()}


def workload(kind, name, spec=None, template_metadata=None):
    template = {'metadata': {'labels': {'app': name}}, 'spec': spec or hardened_pod_spec()}
    if template_metadata:
        template['metadata'].update(template_metadata)
    group = {'Job': 'batch/v1', 'CronJob': 'batch/v1'}.get(kind, 'apps/v1')
    out = {'apiVersion': group, 'kind': kind, 'metadata': {'name': name, 'namespace': 'shop'}}
    if kind == 'Job':
        template['spec']['restartPolicy'] = 'Never'
        out['spec'] = {'template': template}
    elif kind == 'CronJob':
        template['spec']['restartPolicy'] = 'Never'
        out['spec'] = {'schedule': '*/5 * * * *', 'jobTemplate': {'spec': {'template': template}}}
    else:
        out['spec'] = {'replicas': 2, 'selector': {'matchLabels': {'app': name}}, 'template': template}
        if kind == 'StatefulSet':
            out['spec']['serviceName'] = name
    return out


def with_container(change, init=False):
    spec = hardened_pod_spec()
    c = spec['containers'][0]
    change(c)
    if init:
        init_c = hardened_container('init')
        change(init_c)
        spec['containers'][0] = hardened_container()
        spec['initContainers'] = [init_c]
    return spec


def with_spec(change):
    spec = hardened_pod_spec()
    change(spec)
    return spec


def delete(path):
    def change(obj):
        keys = path.split('.')
        for k in keys[:-1]:
            obj = obj[k]
        del obj[keys[-1]]
    return change


def setting(path, value):
    def change(obj):
        keys = path.split('.')
        for k in keys[:-1]:
            obj = obj.setdefault(k, {})
        obj[keys[-1]] = value
    return change


# (check id, case name, expected Checkov verdict, resource)
CASES = []


def case(check, name, verdict, resource):
    CASES.append((check, name, verdict, resource))


# Every check passes the hardened pod and Deployment.
case('all', 'hardened-pod', 'PASSED', pod('hardened-pod'))
case('all', 'hardened-deployment', 'PASSED', workload('Deployment', 'hardened-deployment'))

case('CKV_K8S_8', 'no-liveness', 'FAILED', pod('no-liveness', with_container(delete('livenessProbe'))))
case('CKV_K8S_8', 'no-liveness-job', 'PASSED', workload('Job', 'no-liveness-job', with_container(delete('livenessProbe'))))
case('CKV_K8S_8', 'empty-liveness', 'PASSED', workload('Deployment', 'empty-liveness', with_container(setting('livenessProbe', {}))))
case('CKV_K8S_9', 'no-readiness', 'FAILED', workload('StatefulSet', 'no-readiness', with_container(delete('readinessProbe'))))
case('CKV_K8S_9', 'no-readiness-cronjob', 'PASSED', workload('CronJob', 'no-readiness-cronjob', with_container(delete('readinessProbe'))))
case('CKV_K8S_10', 'no-cpu-request', 'FAILED', pod('no-cpu-request', with_container(delete('resources.requests.cpu'))))
case('CKV_K8S_10', 'init-no-cpu-request', 'FAILED', pod('init-no-cpu-request', with_container(delete('resources.requests.cpu'), init=True)))
case('CKV_K8S_11', 'no-cpu-limit', 'FAILED', workload('Deployment', 'no-cpu-limit', with_container(delete('resources.limits.cpu'))))
case('CKV_K8S_11', 'no-resources', 'FAILED', pod('no-resources', with_container(delete('resources'))))
case('CKV_K8S_12', 'no-memory-request', 'FAILED', workload('DaemonSet', 'no-memory-request', with_container(delete('resources.requests.memory'))))
case('CKV_K8S_13', 'no-memory-limit', 'FAILED', pod('no-memory-limit', with_container(delete('resources.limits.memory'))))
case('CKV_K8S_14', 'latest-tag', 'FAILED', pod('latest-tag', with_container(setting('image', 'registry.example/shop/web:latest'))))
case('CKV_K8S_14', 'no-tag', 'FAILED', pod('no-tag', with_container(setting('image', 'nginx'))))
case('CKV_K8S_14', 'registry-port-no-tag', 'FAILED', pod('registry-port-no-tag', with_container(setting('image', 'registry.example:5000/shop/web'))))
case('CKV_K8S_14', 'registry-port-tag', 'PASSED', pod('registry-port-tag', with_container(setting('image', 'registry.example:5000/shop/web:2.1'))))
case('CKV_K8S_14', 'digest', 'PASSED', pod('digest', with_container(setting('image', 'registry.example/shop/web@sha256:0d8e1c2a5f3b4e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d'))))
case('CKV_K8S_14', 'plain-tag', 'PASSED', pod('plain-tag', with_container(setting('image', 'nginx:1.27'))))
case('CKV_K8S_14', 'init-latest', 'FAILED', workload('Deployment', 'init-latest', with_container(setting('image', 'busybox:latest'), init=True)))
case('CKV_K8S_16', 'privileged', 'FAILED', pod('privileged', with_container(setting('securityContext.privileged', True))))
case('CKV_K8S_16', 'privileged-false', 'PASSED', pod('privileged-false', with_container(setting('securityContext.privileged', False))))
case('CKV_K8S_16', 'privileged-init', 'FAILED', workload('Job', 'privileged-init', with_container(setting('securityContext.privileged', True), init=True)))
case('CKV_K8S_17', 'host-pid', 'FAILED', workload('Deployment', 'host-pid', with_spec(setting('hostPID', True))))
case('CKV_K8S_17', 'host-pid-false', 'PASSED', pod('host-pid-false', with_spec(setting('hostPID', False))))
case('CKV_K8S_18', 'host-ipc', 'FAILED', pod('host-ipc', with_spec(setting('hostIPC', True))))
case('CKV_K8S_18', 'host-ipc-false', 'PASSED', workload('DaemonSet', 'host-ipc-false', with_spec(setting('hostIPC', False))))
case('CKV_K8S_19', 'host-network', 'FAILED', workload('DaemonSet', 'host-network', with_spec(setting('hostNetwork', True))))
case('CKV_K8S_19', 'host-network-cronjob', 'FAILED', workload('CronJob', 'host-network-cronjob', with_spec(setting('hostNetwork', True))))
case('CKV_K8S_20', 'escalation-unset', 'FAILED', pod('escalation-unset', with_container(delete('securityContext.allowPrivilegeEscalation'))))
case('CKV_K8S_20', 'escalation-true', 'FAILED', workload('Deployment', 'escalation-true', with_container(setting('securityContext.allowPrivilegeEscalation', True))))
case('CKV_K8S_20', 'init-escalation-unset', 'FAILED', pod('init-escalation-unset', with_container(delete('securityContext.allowPrivilegeEscalation'), init=True)))
case('CKV_K8S_21', 'default-namespace', 'FAILED', pod('default-namespace', metadata={'namespace': 'default'}))
case('CKV_K8S_21', 'default-namespace-configmap', 'FAILED',
     {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'settings', 'namespace': 'default'}, 'data': {'a': '1'}})
case('CKV_K8S_21', 'shop-namespace-service', 'PASSED',
     {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'web', 'namespace': 'shop'},
      'spec': {'selector': {'app': 'web'}, 'ports': [{'port': 80, 'targetPort': 8080}]}})
case('CKV_K8S_21', 'default-service-account', 'PASSED',
     {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': 'default', 'namespace': 'default'}})
case('CKV_K8S_22', 'writable-root', 'FAILED', pod('writable-root', with_container(delete('securityContext.readOnlyRootFilesystem'))))
case('CKV_K8S_22', 'writable-root-false', 'FAILED', workload('StatefulSet', 'writable-root-false', with_container(setting('securityContext.readOnlyRootFilesystem', False))))
case('CKV_K8S_23', 'root-nothing-set', 'FAILED', pod('root-nothing-set', with_spec(delete('securityContext.runAsNonRoot'))
                                                   if False else with_spec(lambda s: s.update({'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}}}))))
case('CKV_K8S_23', 'root-container-non-root', 'PASSED', pod('root-container-non-root', with_spec(lambda s: (
    s.update({'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}}}),
    s['containers'][0]['securityContext'].update({'runAsNonRoot': True})))))
case('CKV_K8S_23', 'root-container-user', 'PASSED', workload('Deployment', 'root-container-user', with_spec(lambda s: (
    s.update({'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}}}),
    s['containers'][0]['securityContext'].update({'runAsUser': 1000})))))
case('CKV_K8S_23', 'root-pod-user-container-zero', 'FAILED', pod('root-pod-user-container-zero', with_spec(lambda s: (
    s.update({'securityContext': {'runAsUser': 1000, 'seccompProfile': {'type': 'RuntimeDefault'}}}),
    s['containers'][0]['securityContext'].update({'runAsUser': 0})))))
case('CKV_K8S_23', 'root-pod-non-root-container-off', 'FAILED', pod('root-pod-non-root-container-off', with_spec(lambda s: (
    s['containers'][0]['securityContext'].update({'runAsNonRoot': False})))))
case('CKV_K8S_23', 'root-pod-non-root-container-off-user', 'PASSED', pod('root-pod-non-root-container-off-user', with_spec(lambda s: (
    s['containers'][0]['securityContext'].update({'runAsNonRoot': False, 'runAsUser': 2000})))))
case('CKV_K8S_23', 'root-pod-user-only', 'PASSED', workload('StatefulSet', 'root-pod-user-only', with_spec(lambda s: (
    s.update({'securityContext': {'runAsUser': 1000, 'seccompProfile': {'type': 'RuntimeDefault'}}})))))
case('CKV_K8S_25', 'add-capability', 'FAILED', pod('add-capability', with_container(setting('securityContext.capabilities.add', ['NET_BIND_SERVICE']))))
case('CKV_K8S_25', 'add-nothing', 'PASSED', pod('add-nothing', with_container(setting('securityContext.capabilities.add', []))))
case('CKV_K8S_26', 'host-port', 'FAILED', workload('Deployment', 'host-port', with_container(setting('ports', [{'containerPort': 8080, 'hostPort': 8080}]))))
case('CKV_K8S_26', 'container-port-only', 'PASSED', pod('container-port-only', with_container(setting('ports', [{'containerPort': 8080, 'protocol': 'TCP'}]))))
case('CKV_K8S_27', 'docker-socket', 'FAILED', pod('docker-socket', with_spec(setting('volumes', [{'name': 'docker', 'hostPath': {'path': '/var/run/docker.sock'}}]))))
case('CKV_K8S_27', 'docker-socket-deployment', 'FAILED', workload('Deployment', 'docker-socket-deployment', with_spec(setting('volumes', [{'name': 'docker', 'hostPath': {'path': '/var/run/docker.sock', 'type': 'Socket'}}]))))
case('CKV_K8S_27', 'host-path-data', 'PASSED', pod('host-path-data', with_spec(setting('volumes', [{'name': 'data', 'hostPath': {'path': '/srv/data'}}]))))
case('CKV_K8S_27', 'empty-dir', 'PASSED', pod('empty-dir', with_spec(setting('volumes', [{'name': 'tmp', 'emptyDir': {}}]))))
case('CKV_K8S_28', 'no-drop', 'FAILED', pod('no-drop', with_container(delete('securityContext.capabilities'))))
case('CKV_K8S_28', 'drop-net-raw', 'PASSED', pod('drop-net-raw', with_container(setting('securityContext.capabilities.drop', ['NET_RAW']))))
case('CKV_K8S_28', 'drop-other', 'FAILED', workload('DaemonSet', 'drop-other', with_container(setting('securityContext.capabilities.drop', ['MKNOD']))))
case('CKV_K8S_31', 'no-seccomp', 'FAILED', pod('no-seccomp', with_spec(delete('securityContext.seccompProfile'))))
case('CKV_K8S_31', 'seccomp-unconfined', 'FAILED', workload('Deployment', 'seccomp-unconfined', with_spec(setting('securityContext.seccompProfile', {'type': 'Unconfined'}))))
case('CKV_K8S_31', 'seccomp-containers', 'PASSED', pod('seccomp-containers', with_spec(lambda s: (
    s['securityContext'].pop('seccompProfile'),
    s['containers'][0]['securityContext'].update({'seccompProfile': {'type': 'RuntimeDefault'}})))))
case('CKV_K8S_31', 'seccomp-annotation', 'PASSED', pod('seccomp-annotation', with_spec(delete('securityContext.seccompProfile')),
     metadata={'annotations': {'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}}))
case('CKV_K8S_31', 'seccomp-annotation-localhost-container', 'FAILED', pod('seccomp-annotation-localhost-container', with_spec(lambda s: (
    s['securityContext'].pop('seccompProfile'),
    s['containers'][0]['securityContext'].update({'seccompProfile': {'type': 'Localhost', 'localhostProfile': 'profiles/web.json'}}))),
     metadata={'annotations': {'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}}))
case('CKV_K8S_35', 'secret-env', 'FAILED', pod('secret-env', with_container(setting('env', [{'name': 'DB_PASSWORD', 'valueFrom': {'secretKeyRef': {'name': 'db', 'key': 'password'}}}]))))
case('CKV_K8S_35', 'secret-env-from', 'FAILED', workload('Deployment', 'secret-env-from', with_container(setting('envFrom', [{'secretRef': {'name': 'db'}}]))))
case('CKV_K8S_35', 'configmap-env', 'PASSED', pod('configmap-env', with_container(setting('env', [
    {'name': 'MODE', 'value': 'production'}, {'name': 'LEVEL', 'valueFrom': {'configMapKeyRef': {'name': 'settings', 'key': 'level'}}}]))))
case('CKV_K8S_38', 'automount-default', 'FAILED', pod('automount-default', with_spec(delete('automountServiceAccountToken'))))
case('CKV_K8S_38', 'automount-true', 'FAILED', workload('StatefulSet', 'automount-true', with_spec(setting('automountServiceAccountToken', True))))
case('CKV_K8S_39', 'sys-admin', 'FAILED', pod('sys-admin', with_container(setting('securityContext.capabilities.add', ['SYS_ADMIN']))))
case('CKV_K8S_39', 'sys-admin-init', 'FAILED', workload('Deployment', 'sys-admin-init', with_container(setting('securityContext.capabilities.add', ['SYS_ADMIN']), init=True)))
case('CKV_K8S_39', 'net-admin', 'PASSED', pod('net-admin', with_container(setting('securityContext.capabilities.add', ['NET_ADMIN']))))

# Cases a check passes because it does not look at them.
NOT_JUDGED = {'no-liveness-job', 'no-readiness-cronjob', 'default-service-account'}

# The pack's policies, by Checkov id (Windlass's own are tested by hand-written files).
POLICY_BY_CHECK = {}


def policies_by_check():
    for name in sorted(os.listdir(POLICIES)):
        if not name.endswith('.yaml') or name.endswith('.test.yaml'):
            continue
        doc = yaml.safe_load(open(os.path.join(POLICIES, name)))
        ann = doc['metadata'].get('annotations', {})
        if 'windlass.dev/check-id' in ann:
            POLICY_BY_CHECK[ann['windlass.dev/check-id']] = (doc, name[:-5])


def dump(docs):
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, width=120)


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for old in os.listdir(CORPUS):
        if old.endswith('.yaml'):
            os.remove(os.path.join(CORPUS, old))
    index = []
    for check, name, verdict, resource in CASES:
        file = f"{check}.{verdict.lower()}.{name}.yaml"
        open(os.path.join(CORPUS, file), 'w').write(dump([resource]))
        index.append(file)
    print(f"{len(index)} corpus manifests in {os.path.relpath(CORPUS, ROOT)}")

    policies_by_check()
    for check, (doc, policy) in POLICY_BY_CHECK.items():
        action = doc['spec'].get('failureAction', 'Audit')
        failed = 'fail' if action == 'Enforce' else 'warn'
        rules = [r['name'] for r in doc['spec']['rules']]
        cases = [c for c in CASES if c[0] in (check, 'all')]
        results = []
        resources = []
        for _, name, verdict, resource in cases:
            resources.append(resource)
            ref = f"{resource['kind']}/{resource['metadata']['name']}"
            if verdict == 'FAILED':
                # The case fails the check: at least one rule fails; each rule is asked of
                # the resource only when it alone decides (one-rule policies).
                if len(rules) == 1:
                    results.append({'policy': policy, 'rule': rules[0], 'resources': [ref], 'result': failed})
            else:
                # Kinds a check leaves out (Jobs for probes, the default ServiceAccount) give no
                # result at all, which a test spells skip.
                result = 'skip' if name in NOT_JUDGED else 'pass'
                for rule in rules:
                    results.append({'policy': policy, 'rule': rule, 'resources': [ref], 'result': result})
        test = {'apiVersion': 'windlass.dev/v1', 'kind': 'PolicyTest', 'metadata': {'name': policy}, 'results': results}
        header = f"# The tests of {policy}.yaml, from the corpus of scripts/policy-corpus.py (regenerate, do not edit).\n"
        open(os.path.join(POLICIES, policy + '.test.yaml'), 'w').write(header + dump([test] + resources))
    print(f"{len(POLICY_BY_CHECK)} test files in policies/")


if __name__ == '__main__':
    main()
