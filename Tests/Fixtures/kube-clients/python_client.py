"""The official Kubernetes Python client against `windlass cluster serve`: list, create, patch,
delete, and an informer loop (list, then watch from the list's resourceVersion) that survives a
410 by listing again. Prints one JSON line per finding; exits non-zero on an unexpected error.

Usage: python_client.py KUBECONFIG
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def say(**fields):
    print(json.dumps(fields), flush=True)


config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()

namespaces = [n.metadata.name for n in core.list_namespace().items]
say(step="list", namespaces=namespaces)

core.create_namespaced_config_map("default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"a": "1"}})
patched = core.patch_namespaced_config_map("py", "default", {"data": {"b": "2"}})
say(step="patch", data=patched.data)

deployment = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py-web", "labels": {"app": "py-web"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "py-web"}},
             "template": {"metadata": {"labels": {"app": "py-web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}},
}
created = apps.create_namespaced_deployment("default", deployment)
say(step="create", uid=created.metadata.uid, generation=created.metadata.generation)
try:
    apps.create_namespaced_deployment("default", deployment)
except ApiException as error:
    say(step="duplicate", status=error.status, reason=json.loads(error.body)["reason"])

# Informer: list, then watch from the list's version; the changes below happen while it is
# not watching and outrun the server's change log, so the watch gets 410 and lists again.
listed = core.list_namespaced_config_map("default")
version = listed.metadata.resource_version
for index in range(30):
    core.create_namespaced_config_map("default", {"metadata": {"name": f"burst-{index}"}, "data": {"i": str(index)}})
relisted = False
seen = set()
versions = []
for attempt in range(3):
    try:
        stream = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=version, timeout_seconds=2)
        for event in stream:
            seen.add(event["object"].metadata.name)
            versions.append(int(event["object"].metadata.resource_version))
        break
    except ApiException as error:
        if error.status != 410:
            raise
        relisted = True
        listed = core.list_namespaced_config_map("default")
        version = listed.metadata.resource_version
        seen.update(item.metadata.name for item in listed.items)
say(step="informer", relisted=relisted, seen=len([name for name in seen if name.startswith("burst-")]))

# A watch from the current version sees a change once, in order.
listed = core.list_namespaced_config_map("default")
stream = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=listed.metadata.resource_version, timeout_seconds=3)
core.patch_namespaced_config_map("py", "default", {"data": {"c": "3"}})
core.delete_namespaced_config_map("py", "default")
events = []
for event in stream:
    events.append([event["type"], event["object"].metadata.name, int(event["object"].metadata.resource_version)])
    if event["type"] == "DELETED":
        break
say(step="watch", events=events)

deleted = core.delete_namespaced_config_map("burst-0", "default")
deleted = deleted if isinstance(deleted, dict) else deleted.to_dict()
say(step="delete", status=deleted.get("status"))
try:
    core.read_namespaced_config_map("burst-0", "default")
except ApiException as error:
    say(step="gone", status=error.status)
