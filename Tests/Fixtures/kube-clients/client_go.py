"""client-go (v0.32, through the kubernetes-lite wheel) against `windlass cluster serve`: its
discovery and REST mapping, a dynamic list, create, patch and delete, and the reflector's
loop (list, then watch from the list's resourceVersion; on 410, list again). Prints one JSON
line per finding.

Usage: client_go.py KUBECONFIG
"""
import json
import sys

from kubernetes_lite.client import DynamicClient


def say(**fields):
    print(json.dumps(fields), flush=True)


with open(sys.argv[1], "rb") as handle:
    dynamic = DynamicClient(handle.read())
deployments = dynamic.resource("apps/v1", "Deployment")
configmaps = dynamic.resource("v1", "ConfigMap")

listed = deployments.list(namespace="default")
say(step="list", kind=listed.get("kind"), items=len(listed.get("items", [])))

configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}, "data": {"a": "1"}}, namespace="default")
got = configmaps.get("go", namespace="default")
say(step="get", data=got.get("data"))

# The reflector's loop.
version = configmaps.list(namespace="default")["metadata"]["resourceVersion"]
for index in range(30):
    configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"burst-{index}", "namespace": "default"}}, namespace="default")
relisted = False
seen = set()
for attempt in range(3):
    watcher = configmaps.watch(namespace="default", resource_version=version, timeout=2)
    expired = False
    for event in watcher:
        if event.get("Type") == "ERROR":
            expired = event["Object"].get("code") == 410
            break
        seen.add(event["Object"]["metadata"]["name"])
    watcher.stop()
    if not expired:
        break
    relisted = True
    listed = configmaps.list(namespace="default")
    version = listed["metadata"]["resourceVersion"]
    seen.update(item["metadata"]["name"] for item in listed["items"])
say(step="reflector", relisted=relisted, seen=len([name for name in seen if name.startswith("burst-")]))

configmaps.delete("go", namespace="default")
say(step="delete", remaining=[item["metadata"]["name"] for item in configmaps.list(namespace="default")["items"] if item["metadata"]["name"] == "go"])
