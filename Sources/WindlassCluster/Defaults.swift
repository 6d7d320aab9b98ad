public import WindlassManifest

/// The defaults a Kubernetes API server fills in on write (REFERENCE.md §2), so that the
/// embedded core stores what a real cluster would, and a diff does not call them drift.
public enum Defaults {
    /// `object` with every absent defaulted field filled in; fields already set are kept.
    public static func apply(to object: Value) -> Value {
        guard let kind = object["kind"]?.stringValue else { return object }
        let group = GroupVersionKind(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind).group
        var out = object
        switch (group, kind) {
        case ("apps", "Deployment"):
            out.setDefault(1, at: ["spec", "replicas"])
            out.setDefault("RollingUpdate", at: ["spec", "strategy", "type"])
            if out[path: ["spec", "strategy", "type"]]?.stringValue == "RollingUpdate" {
                out.setDefault("25%", at: ["spec", "strategy", "rollingUpdate", "maxSurge"])
                out.setDefault("25%", at: ["spec", "strategy", "rollingUpdate", "maxUnavailable"])
            }
            out.setDefault(10, at: ["spec", "revisionHistoryLimit"])
            out.setDefault(600, at: ["spec", "progressDeadlineSeconds"])
            podTemplate(&out, at: ["spec", "template"])
        case ("apps", "StatefulSet"):
            out.setDefault(1, at: ["spec", "replicas"])
            out.setDefault("OrderedReady", at: ["spec", "podManagementPolicy"])
            out.setDefault("RollingUpdate", at: ["spec", "updateStrategy", "type"])
            if out[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" {
                out.setDefault(0, at: ["spec", "updateStrategy", "rollingUpdate", "partition"])
            }
            out.setDefault(10, at: ["spec", "revisionHistoryLimit"])
            podTemplate(&out, at: ["spec", "template"])
            out.updateItems(at: ["spec", "volumeClaimTemplates"]) { claim in
                claim.setDefault("Filesystem", at: ["spec", "volumeMode"])
            }
        case ("apps", "DaemonSet"):
            out.setDefault("RollingUpdate", at: ["spec", "updateStrategy", "type"])
            if out[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" {
                out.setDefault(1, at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"])
                out.setDefault(0, at: ["spec", "updateStrategy", "rollingUpdate", "maxSurge"])
            }
            out.setDefault(10, at: ["spec", "revisionHistoryLimit"])
            podTemplate(&out, at: ["spec", "template"])
        case ("apps", "ReplicaSet"):
            out.setDefault(1, at: ["spec", "replicas"])
            podTemplate(&out, at: ["spec", "template"])
        case ("batch", "Job"):
            out.setDefault(1, at: ["spec", "completions"])
            out.setDefault(1, at: ["spec", "parallelism"])
            out.setDefault(6, at: ["spec", "backoffLimit"])
            out.setDefault("NonIndexed", at: ["spec", "completionMode"])
            out.setDefault(false, at: ["spec", "suspend"])
            podTemplate(&out, at: ["spec", "template"])
        case ("batch", "CronJob"):
            out.setDefault("Allow", at: ["spec", "concurrencyPolicy"])
            out.setDefault(false, at: ["spec", "suspend"])
            out.setDefault(3, at: ["spec", "successfulJobsHistoryLimit"])
            out.setDefault(1, at: ["spec", "failedJobsHistoryLimit"])
            podTemplate(&out, at: ["spec", "jobTemplate", "spec", "template"])
        case ("", "Pod"):
            podSpec(&out, at: ["spec"])
        case ("", "Service"):
            service(&out)
        case ("", "Secret"):
            out.setDefault("Opaque", at: ["type"])
        case ("", "PersistentVolumeClaim"):
            out.setDefault("Filesystem", at: ["spec", "volumeMode"])
        default:
            break
        }
        return out
    }

    static func podTemplate(_ object: inout Value, at path: [String]) {
        guard object[path: path] != nil else { return }
        podSpec(&object, at: path + ["spec"])
    }

    static func podSpec(_ object: inout Value, at path: [String]) {
        guard object[path: path] != nil else { return }
        object.setDefault("ClusterFirst", at: path + ["dnsPolicy"])
        object.setDefault("Always", at: path + ["restartPolicy"])
        object.setDefault(.mapping(Mapping()), at: path + ["securityContext"])
        object.setDefault(30, at: path + ["terminationGracePeriodSeconds"])
        object.setDefault("default-scheduler", at: path + ["schedulerName"])
        for list in ["containers", "initContainers"] {
            object.updateItems(at: path + [list]) { container(&$0) }
        }
    }

    static func container(_ c: inout Value) {
        if let image = c["image"]?.stringValue {
            c.setDefault(.string(pullPolicy(for: image)), at: ["imagePullPolicy"])
        }
        c.setDefault("/dev/termination-log", at: ["terminationMessagePath"])
        c.setDefault("File", at: ["terminationMessagePolicy"])
        c.updateItems(at: ["ports"]) { port in
            port.setDefault("TCP", at: ["protocol"])
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] where c[probe] != nil {
            c.setDefault(1, at: [probe, "timeoutSeconds"])
            c.setDefault(10, at: [probe, "periodSeconds"])
            c.setDefault(1, at: [probe, "successThreshold"])
            c.setDefault(3, at: [probe, "failureThreshold"])
            if c[path: [probe, "httpGet"]] != nil {
                c.setDefault("/", at: [probe, "httpGet", "path"])
                c.setDefault("HTTP", at: [probe, "httpGet", "scheme"])
            }
        }
    }

    /// `Always` for `:latest` or no tag, else `IfNotPresent` (a digest pins the image too).
    public static func pullPolicy(for image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastComponent.lastIndex(of: ":") else { return "Always" }
        return lastComponent[lastComponent.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    static func service(_ object: inout Value) {
        object.setDefault("ClusterIP", at: ["spec", "type"])
        object.setDefault("None", at: ["spec", "sessionAffinity"])
        object.updateItems(at: ["spec", "ports"]) { port in
            port.setDefault("TCP", at: ["protocol"])
            if let number = port["port"], port["targetPort"] == nil || port["targetPort"]!.isNull {
                port.set(number, at: ["targetPort"])
            }
        }
    }
}
