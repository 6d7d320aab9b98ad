import WindlassCluster
public import WindlassManifest

/// The traffic a running pod would have served, derived from the time it has been Ready, so a
/// real Prometheus can scrape canary gates from it: `sim.windlass.dev/rps` (default 10),
/// `sim.windlass.dev/error-rate` (share answered 500, default 0) and
/// `sim.windlass.dev/latency-ms` (default 20). Exposed in Prometheus' text format.
public enum SimulatedTraffic {
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public static func exposition(pods: [Value], now: Double) -> String {
        var requests = "# HELP windlass_sim_http_requests_total Simulated HTTP requests served by each pod.\n"
            + "# TYPE windlass_sim_http_requests_total counter\n"
        var durations = "# HELP windlass_sim_http_request_duration_seconds Simulated HTTP request latency.\n"
            + "# TYPE windlass_sim_http_request_duration_seconds histogram\n"
        for pod in pods {
            guard pod[path: ["status", "phase"]] == "Running",
                let readySince = pod[path: ["status", "conditions"]]?.sequenceValue?.first(where: { $0["type"] == "Ready" && $0["status"] == "True" })?["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse)
            else { continue }
            let annotations = ObjectStore.annotations(of: pod)
            let rps = annotations["sim.windlass.dev/rps"].flatMap(Double.init) ?? 10
            let errorRate = min(1, max(0, annotations["sim.windlass.dev/error-rate"].flatMap(Double.init) ?? 0))
            let latency = (annotations["sim.windlass.dev/latency-ms"].flatMap(Double.init) ?? 20) / 1000
            let total = Int(max(0, now - readySince) * rps)
            let errors = Int(Double(total) * errorRate)
            let labels = labelText(pod)
            requests += "windlass_sim_http_requests_total{\(labels),code=\"200\"} \(total - errors)\n"
            requests += "windlass_sim_http_requests_total{\(labels),code=\"500\"} \(errors)\n"
            for bound in buckets {
                durations += "windlass_sim_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(latency <= bound ? total : 0)\n"
            }
            durations += "windlass_sim_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(total)\n"
            durations += "windlass_sim_http_request_duration_seconds_sum{\(labels)} \(Double(total) * latency)\n"
            durations += "windlass_sim_http_request_duration_seconds_count{\(labels)} \(total)\n"
        }
        return requests + durations
    }

    /// `namespace="shop",pod="web-7d4b9-x2k4p",workload="web",track="stable"`.
    static func labelText(_ pod: Value) -> String {
        let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
        let track = pod[path: ["metadata", "labels", "windlass.dev/track"]]?.stringValue ?? "stable"
        return "namespace=\"\(escape(namespace))\",pod=\"\(escape(name))\",workload=\"\(escape(workload(of: pod)))\",track=\"\(escape(track))\""
    }

    /// The Deployment (a ReplicaSet's name less its hash), StatefulSet, DaemonSet or Job a pod belongs to.
    static func workload(of pod: Value) -> String {
        guard let owner = pod[path: ["metadata", "ownerReferences"]]?.sequenceValue?.first,
            let name = owner["name"]?.stringValue
        else { return pod[path: ["metadata", "name"]]?.stringValue ?? "" }
        if owner["kind"] == "ReplicaSet", let hash = pod[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue,
            name.hasSuffix("-" + hash)
        {
            return String(name.dropLast(hash.count + 1))
        }
        return name
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
