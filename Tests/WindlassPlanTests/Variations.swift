import WindlassCluster
import WindlassManifest

/// Generated manifests for every kind the embedded core supports, each written three ways:
/// defaults left out, some spelled out, and all spelled out (as the API server fills them in).
enum Variations {
    enum Level: CaseIterable {
        case omitted, partial, full
    }

    static func all() -> [Value] {
        var out: [Value] = []
        out += (0..<5).map { namespace("ns-\($0)", labels: $0 % 2 == 0) }
        for level in Level.allCases {
            for variant in 0..<14 { out.append(deployment("deploy-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<6 { out.append(statefulSet("sts-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<6 { out.append(daemonSet("ds-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<4 { out.append(job("job-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<2 { out.append(cronJob("cron-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<8 { out.append(service("svc-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<3 { out.append(claim("pvc-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<4 { out.append(virtualMachine("vm-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<4 { out.append(pod("pod-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<2 { out.append(replicaSet("rs-\(level)-\(variant)", level: level, variant: variant)) }
            for variant in 0..<4 { out.append(secret("secret-\(level)-\(variant)", level: level, variant: variant)) }
        }
        for variant in 0..<12 { out.append(configMap("cm-\(variant)", variant: variant)) }
        for variant in 0..<6 { out.append(budget("pdb-\(variant)", variant: variant)) }
        for variant in 0..<6 { out.append(plain("v1", "ServiceAccount", "sa-\(variant)", variant: variant)) }
        for variant in 0..<3 { out.append(role("role-\(variant)", variant: variant)) }
        for variant in 0..<2 { out.append(plain("networking.k8s.io/v1", "NetworkPolicy", "np-\(variant)", variant: variant, spec: ["podSelector": [:]])) }
        return out
    }

    static func metadata(_ name: String, namespace: String? = "zero", variant: Int) -> Value {
        var meta: Value = ["name": .string(name)]
        if let namespace { meta.set(.string(namespace), at: ["namespace"]) }
        if variant % 3 == 1 { meta.set(["team": "cloud", "tier": "api"], at: ["labels"]) }
        if variant % 4 == 2 { meta.set(["windlass.dev/sync-wave": "1", "example.org/owner": "ops"], at: ["annotations"]) }
        return meta
    }

    static func namespace(_ name: String, labels: Bool) -> Value {
        var object: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
        if labels { object.set(["windlass.dev/tier": "staging"], at: ["metadata", "labels"]) }
        return object
    }

    static let images = ["registry.example/keystone:26.0", "nginx", "nginx:latest", "quay.io/openstack/nova@sha256:" + String(repeating: "a", count: 64)]

    static func container(_ name: String, level: Level, variant: Int) -> Value {
        let image = images[variant % images.count]
        var c: Value = ["name": .string(name), "image": .string(image)]
        if variant % 2 == 0 {
            var port: Value = ["containerPort": 8080, "name": "http"]
            if level != .omitted { port.set("TCP", at: ["protocol"]) }
            c.set([port, ["containerPort": 9090, "protocol": "UDP"]], at: ["ports"])
        }
        if variant % 3 == 0 {
            let cpu: Value = variant % 2 == 0 ? "500m" : .double(0.5)
            c.set(["requests": ["cpu": cpu, "memory": "128Mi"], "limits": ["cpu": "1", "memory": "1Gi"]], at: ["resources"])
        }
        if variant % 4 == 1 {
            var probe: Value = ["httpGet": ["port": 8080]]
            if level == .full {
                probe = ["httpGet": ["port": 8080, "path": "/", "scheme": "HTTP"], "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3]
            } else if level == .partial {
                probe.set(5, at: ["periodSeconds"])
            }
            c.set(probe, at: ["readinessProbe"])
            c.set(["tcpSocket": ["port": 8080], "initialDelaySeconds": 3], at: ["livenessProbe"])
        }
        if variant % 5 == 2 {
            c.set([["name": "OS_REGION", "value": "RegionOne"], ["name": "DEBUG", "value": "false"]], at: ["env"])
            c.set(["--config-file", "/etc/app.conf"], at: ["args"])
        }
        switch level {
        case .omitted: break
        case .partial: c.set("File", at: ["terminationMessagePolicy"])
        case .full:
            c.set(.string(Defaults.pullPolicy(for: image)), at: ["imagePullPolicy"])
            c.set("/dev/termination-log", at: ["terminationMessagePath"])
            c.set("File", at: ["terminationMessagePolicy"])
        }
        return c
    }

    static func podSpec(level: Level, variant: Int, restartPolicy: String? = nil) -> Value {
        var spec: Value = ["containers": [container("main", level: level, variant: variant)]]
        if variant % 3 == 2 {
            spec.set([container("sidecar", level: level, variant: variant + 1), container("proxy", level: level, variant: variant + 2)], at: ["containers"])
            spec.set([container("init", level: level, variant: variant + 3)], at: ["initContainers"])
        }
        if let restartPolicy { spec.set(.string(restartPolicy), at: ["restartPolicy"]) }
        switch level {
        case .omitted: break
        case .partial:
            spec.setDefault("Always", at: ["restartPolicy"])
            spec.set(30, at: ["terminationGracePeriodSeconds"])
        case .full:
            spec.setDefault("Always", at: ["restartPolicy"])
            spec.set("ClusterFirst", at: ["dnsPolicy"])
            spec.set(.mapping(Mapping()), at: ["securityContext"])
            spec.set(30, at: ["terminationGracePeriodSeconds"])
            spec.set("default-scheduler", at: ["schedulerName"])
        }
        if variant % 4 == 3 { spec.set([["name": "config", "configMap": ["name": "cm-0"]]], at: ["volumes"]) }
        return spec
    }

    static func template(_ app: String, level: Level, variant: Int, restartPolicy: String? = nil) -> Value {
        ["metadata": ["labels": ["app": .string(app)]], "spec": podSpec(level: level, variant: variant, restartPolicy: restartPolicy)]
    }

    static func deployment(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = ["selector": ["matchLabels": ["app": .string(name)]], "template": template(name, level: level, variant: variant)]
        if variant % 3 != 0 { spec.set(.int(variant % 4 + 1), at: ["replicas"]) }
        switch level {
        case .omitted: break
        case .partial:
            spec.set("RollingUpdate", at: ["strategy", "type"])
            spec.set(10, at: ["revisionHistoryLimit"])
        case .full:
            spec.setDefault(1, at: ["replicas"])
            spec.set(["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]], at: ["strategy"])
            spec.set(10, at: ["revisionHistoryLimit"])
            spec.set(600, at: ["progressDeadlineSeconds"])
        }
        if variant == 5 { spec.set(["type": "Recreate"], at: ["strategy"]) }
        if variant == 7 { spec.set(["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]], at: ["strategy"]) }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func statefulSet(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = [
            "selector": ["matchLabels": ["app": .string(name)]], "serviceName": .string(name), "template": template(name, level: level, variant: variant),
        ]
        if variant % 2 == 0 { spec.set(3, at: ["replicas"]) }
        if variant % 3 == 0 {
            var claim: Value = ["metadata": ["name": "data"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
            if level == .full { claim.set("Filesystem", at: ["spec", "volumeMode"]) }
            spec.set([claim], at: ["volumeClaimTemplates"])
        }
        switch level {
        case .omitted: break
        case .partial: spec.set("OrderedReady", at: ["podManagementPolicy"])
        case .full:
            spec.setDefault(1, at: ["replicas"])
            spec.set("OrderedReady", at: ["podManagementPolicy"])
            spec.set(["type": "RollingUpdate", "rollingUpdate": ["partition": 0]], at: ["updateStrategy"])
            spec.set(10, at: ["revisionHistoryLimit"])
        }
        if variant == 5 { spec.set("Parallel", at: ["podManagementPolicy"]) }
        return ["apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func daemonSet(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = ["selector": ["matchLabels": ["app": .string(name)]], "template": template(name, level: level, variant: variant)]
        switch level {
        case .omitted: break
        case .partial: spec.set(["type": "RollingUpdate"], at: ["updateStrategy"])
        case .full:
            spec.set(["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]], at: ["updateStrategy"])
            spec.set(10, at: ["revisionHistoryLimit"])
        }
        if variant == 4 { spec.set(["compute": "true"], at: ["template", "spec", "nodeSelector"]) }
        return ["apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func job(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = ["template": ["spec": podSpec(level: level, variant: variant, restartPolicy: variant % 2 == 0 ? "Never" : "OnFailure")]]
        if level != .omitted { spec.set(6, at: ["backoffLimit"]) }
        if level == .full {
            spec.set(1, at: ["completions"])
            spec.set(1, at: ["parallelism"])
            spec.set("NonIndexed", at: ["completionMode"])
            spec.set(false, at: ["suspend"])
        }
        return ["apiVersion": "batch/v1", "kind": "Job", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func cronJob(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = [
            "schedule": "*/10 * * * *",
            "jobTemplate": ["spec": ["template": ["spec": podSpec(level: level, variant: variant, restartPolicy: "OnFailure")]]],
        ]
        if level == .full {
            spec.set("Allow", at: ["concurrencyPolicy"])
            spec.set(false, at: ["suspend"])
            spec.set(3, at: ["successfulJobsHistoryLimit"])
            spec.set(1, at: ["failedJobsHistoryLimit"])
        }
        return ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func service(_ name: String, level: Level, variant: Int) -> Value {
        var port: Value = ["port": 80, "name": "http"]
        switch variant % 3 {
        case 0: break
        case 1: port.set(8080, at: ["targetPort"])
        default: port.set("http", at: ["targetPort"])
        }
        if level != .omitted { port.set("TCP", at: ["protocol"]) }
        var spec: Value = ["selector": ["app": "web"], "ports": [port]]
        if variant % 4 == 3 { spec.set(.sequence([port, ["port": 443, "name": "https", "targetPort": 8443]]), at: ["ports"]) }
        if level == .full {
            spec.set("ClusterIP", at: ["type"])
            spec.set("None", at: ["sessionAffinity"])
        }
        if variant == 5 { spec.set("None", at: ["clusterIP"]) }
        if variant == 6 { spec.set("NodePort", at: ["type"]) }
        return ["apiVersion": "v1", "kind": "Service", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func claim(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": variant == 1 ? "1024Mi" : "1Gi"]]]
        if level == .full { spec.set("Filesystem", at: ["volumeMode"]) }
        if variant == 2 { spec.set("standard", at: ["storageClassName"]) }
        return ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func virtualMachine(_ name: String, level: Level, variant: Int) -> Value {
        var domain: Value = ["resources": ["requests": ["memory": "2Gi", "cpu": "1"]], "devices": ["disks": [["name": "root", "disk": ["bus": "virtio"]]]]]
        if level == .full { domain.set(["sockets": 1, "cores": 2], at: ["cpu"]) }
        var spec: Value = [
            "template": [
                "metadata": ["labels": ["kubevirt.io/vm": .string(name)]],
                "spec": ["domain": domain, "volumes": [["name": "root", "containerDisk": ["image": "quay.io/cirros:6.2"]]]],
            ]
        ]
        if variant % 2 == 0 { spec.set(true, at: ["running"]) } else { spec.set(variant == 1 ? "Always" : "Manual", at: ["runStrategy"]) }
        if variant == 2 { spec.set("LiveMigrate", at: ["template", "spec", "evictionStrategy"]) }
        return ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func pod(_ name: String, level: Level, variant: Int) -> Value {
        ["apiVersion": "v1", "kind": "Pod", "metadata": metadata(name, variant: variant), "spec": podSpec(level: level, variant: variant)]
    }

    static func replicaSet(_ name: String, level: Level, variant: Int) -> Value {
        var spec: Value = ["selector": ["matchLabels": ["app": .string(name)]], "template": template(name, level: level, variant: variant)]
        if level == .full { spec.set(1, at: ["replicas"]) }
        return ["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func secret(_ name: String, level: Level, variant: Int) -> Value {
        var object: Value = ["apiVersion": "v1", "kind": "Secret", "metadata": metadata(name, variant: variant)]
        if variant % 2 == 0 {
            object.set(["password": "c2VjcmV0LXZhbHVl"], at: ["data"])
        } else {
            object.set(["password": "plain-secret-value"], at: ["stringData"])
        }
        if level == .full { object.set("Opaque", at: ["type"]) }
        if variant == 3 { object.set("kubernetes.io/basic-auth", at: ["type"]) }
        return object
    }

    static func configMap(_ name: String, variant: Int) -> Value {
        var object: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(name, variant: variant)]
        object.set(["keystone.conf": "[DEFAULT]\ndebug = false\n", "workers": "4"], at: ["data"])
        if variant == 3 { object.set(true, at: ["immutable"]) }
        if variant == 4 { object.set(["blob": "AAEC"], at: ["binaryData"]) }
        return object
    }

    static func budget(_ name: String, variant: Int) -> Value {
        let spec: Value =
            variant % 2 == 0 ? ["minAvailable": .int(variant / 2 + 1), "selector": ["matchLabels": ["app": "web"]]] : ["maxUnavailable": "25%", "selector": ["matchLabels": ["app": "db"]]]
        return ["apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata(name, variant: variant), "spec": spec]
    }

    static func role(_ name: String, variant: Int) -> Value {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(name, variant: variant),
            "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]]],
        ]
    }

    static func plain(_ apiVersion: String, _ kind: String, _ name: String, variant: Int, spec: Value? = nil) -> Value {
        var object: Value = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": metadata(name, variant: variant)]
        if let spec { object.set(spec, at: ["spec"]) }
        return object
    }
}
