public import WindlassPlan
import WindlassCluster
public import WindlassManifest

/// A plan's forecast as text, Markdown (with a Mermaid `gantt` chart of the waves and canary
/// steps, which GitHub renders) and JSON.
public struct ForecastRenderer: Sendable {
    public init() {}

    // MARK: - Text

    public func text(_ section: ForecastSection, paint: (String, String) -> String = { text, _ in text }) -> String {
        var out = "\n" + paint("Forecast:", "1")
        guard case .forecast(let forecast) = section else {
            if case .missing(let reason) = section { out += " none: \(reason)\n" }
            return out
        }
        out += " " + paint(forecast.verdict, forecast.fits ? "32" : "31") + "\n"
        for wave in forecast.waves {
            out += "  \(wave.stage): \(Self.clock(wave.start)) → \(Self.clock(wave.end)) (\(Forecast.format(wave.duration))), \(Self.count(wave.resources, "resource"))\n"
        }
        for step in forecast.canarySteps {
            out += "    canary \(Self.name(step.target)) \(Self.stepName(step)): \(Self.clock(step.start)) → \(Self.clock(step.end))"
            out += (step.assumption.map { " (\($0))" } ?? "") + "\n"
        }
        out += "  Capacity: " + Self.capacityLine(forecast.capacity) + "\n"
        for pod in forecast.unschedulable.prefix(50) {
            out += "  " + paint("Unschedulable:", "31") + " \(pod.pod.namespace ?? "")/\(pod.pod.name)" + (pod.workload.map { " of \(Self.name($0))" } ?? "") + ": \(pod.reason)\n"
        }
        if forecast.unschedulable.count > 50 { out += "  … and \(forecast.unschedulable.count - 50) more unschedulable pods\n" }
        for blocker in forecast.blockers {
            out += "  " + paint("Blocks:", "33") + " \(Self.name(blocker.object)) \(blocker.message)\(Self.window(blocker))\n"
        }
        let unhealthy = forecast.finalHealth.filter { $0.health.status != .healthy }
        if !forecast.finalHealth.isEmpty {
            out += "  Final health: \(forecast.finalHealth.count - unhealthy.count) of \(forecast.finalHealth.count) changed workloads Healthy\n"
            for item in unhealthy { out += "    \(Self.name(item.id)): \(item.health)\n" }
        }
        if let abort = forecast.abortPath { out += "  If the first gate fails: " + Self.abortLine(abort) + "\n" }
        if !forecast.notSimulated.isEmpty {
            out += "  Not simulated: " + forecast.notSimulated.map(Self.name).joined(separator: ", ") + "\n"
        }
        for assumption in forecast.assumptions { out += "  Assumed: \(assumption)\n" }
        out += "  (simulated \(Forecast.format(forecast.virtualSeconds)) of cluster time in \(Self.rounded(forecast.wallSeconds)) s)\n"
        return out
    }

    // MARK: - Markdown

    /// The verdict line for the top of a pull-request comment.
    public func markdownVerdict(_ section: ForecastSection) -> String {
        switch section {
        case .forecast(let forecast): return "**Forecast: \(escape(forecast.verdict))**\n"
        case .missing(let reason): return "**Forecast: none** (\(escape(reason)))\n"
        }
    }

    public func markdown(_ section: ForecastSection) -> String {
        guard case .forecast(let forecast) = section else { return "" }
        var out = "\n#### Forecast\n\n"
        out += "| Stage | Start | End | Duration | Resources |\n|---|---|---|---|---|\n"
        for wave in forecast.waves {
            out += "| \(wave.stage) | \(Self.clock(wave.start)) | \(Self.clock(wave.end)) | \(Forecast.format(wave.duration)) | \(wave.resources) |\n"
        }
        out += "\n" + mermaid(forecast)
        out += "\n- **Capacity:** \(escape(Self.capacityLine(forecast.capacity)))\n"
        if !forecast.unschedulable.isEmpty {
            out += "- **Unschedulable pods (\(forecast.unschedulable.count)):**\n"
            for pod in forecast.unschedulable.prefix(50) {
                out += "  - `\(pod.pod.namespace ?? "")/\(pod.pod.name)`" + (pod.workload.map { " of `\(Self.name($0))`" } ?? "") + ": \(escape(pod.reason))\n"
            }
            if forecast.unschedulable.count > 50 { out += "  - … and \(forecast.unschedulable.count - 50) more\n" }
        }
        for blocker in forecast.blockers {
            out += "- **Blocks:** `\(Self.name(blocker.object))` \(escape(blocker.message + Self.window(blocker)))\n"
        }
        if !forecast.finalHealth.isEmpty {
            let unhealthy = forecast.finalHealth.filter { $0.health.status != .healthy }
            out += "- **Final health:** \(forecast.finalHealth.count - unhealthy.count) of \(forecast.finalHealth.count) changed workloads Healthy\n"
            for item in unhealthy { out += "  - `\(Self.name(item.id))`: \(escape(item.health.description))\n" }
        }
        if let abort = forecast.abortPath { out += "- **If the first gate fails:** \(escape(Self.abortLine(abort)))\n" }
        if !forecast.notSimulated.isEmpty {
            out += "- **Not simulated:** " + forecast.notSimulated.map { "`\(Self.name($0))`" }.joined(separator: ", ") + "\n"
        }
        for assumption in forecast.assumptions { out += "- _Assumed:_ \(escape(assumption))\n" }
        return out
    }

    /// A Mermaid gantt chart: a section of waves, and one per canary with its steps. Times are
    /// from the sync's start, written as times of day (`00:01:30`) so that the axis reads the
    /// same in every reader's time zone.
    func mermaid(_ forecast: Forecast) -> String {
        var out = "```mermaid\ngantt\n    dateFormat HH:mm:ss\n    axisFormat %H:%M:%S\n"
        out += "    section Waves\n"
        for (index, wave) in forecast.waves.enumerated() {
            out += "    \(Self.label("\(wave.stage) (\(Forecast.format(wave.duration)))")) :w\(index), \(Self.timeOfDay(Self.whole(wave.start))), \(Self.timeOfDay(Self.end(wave.start, wave.end)))\n"
        }
        var current: ResourceID? = nil
        for (index, step) in forecast.canarySteps.enumerated() {
            if step.target != current {
                current = step.target
                out += "    section Canary \(Self.label(Self.name(step.target)))\n"
            }
            out += "    \(Self.label(Self.stepName(step))) :c\(index), \(Self.timeOfDay(Self.whole(step.start))), \(Self.timeOfDay(Self.end(step.start, step.end)))\n"
        }
        return out + "```\n"
    }

    // MARK: - JSON

    public func json(_ section: ForecastSection) -> Value {
        guard case .forecast(let forecast) = section else {
            if case .missing(let reason) = section { return ["available": false, "reason": .string(reason)] }
            return .null
        }
        var outcome: Value = ["status": "succeeded"]
        switch forecast.outcome {
        case .succeeded: break
        case .failed(let message): outcome = ["status": "failed", "message": .string(message)]
        case .didNotConverge(let message): outcome = ["status": "did_not_converge", "message": .string(message)]
        }
        let capacity = forecast.capacity
        return [
            "available": true,
            "verdict": .string(forecast.verdict),
            "fits": .bool(forecast.fits),
            "outcome": outcome,
            "duration_seconds": .double(Self.rounded(forecast.duration)),
            "waves": .sequence(forecast.waves.map { wave in
                ["stage": .string(wave.stage.description), "resources": .int(wave.resources), "start_seconds": .double(Self.rounded(wave.start)),
                 "end_seconds": .double(Self.rounded(wave.end)), "duration_seconds": .double(Self.rounded(wave.duration))]
            }),
            "canary_steps": .sequence(forecast.canarySteps.map { step in
                ["address": .string(step.target.description), "step": .int(step.number), "summary": .string(step.summary),
                 "start_seconds": .double(Self.rounded(step.start)), "end_seconds": .double(Self.rounded(step.end)),
                 "assumption": step.assumption.map(Value.string) ?? .null]
            }),
            "capacity": [
                "peak_extra_cpu": .string(capacity.peakExtraCPU.description), "peak_extra_memory": .string(capacity.peakExtraMemory.description),
                "peak_extra_cpu_millicores": .int(Int(capacity.peakExtraCPU.milli)), "peak_extra_memory_bytes": .int(Int(capacity.peakExtraMemory.milli / 1000)),
                "peak_at_seconds": .double(Self.rounded(capacity.peakAt)),
                "free_cpu_millicores": .int(Int(capacity.freeCPU.milli)), "free_memory_bytes": .int(Int(capacity.freeMemory.milli / 1000)),
                "fits": .bool(capacity.fits),
            ],
            "unschedulable": .sequence(forecast.unschedulable.map { pod in
                ["pod": .string("\(pod.pod.namespace ?? "")/\(pod.pod.name)"), "workload": pod.workload.map { .string($0.description) } ?? .null,
                 "reason": .string(pod.reason)]
            }),
            "blockers": .sequence(forecast.blockers.map { blocker in
                ["kind": .string(blocker.kind.rawValue), "address": .string(blocker.object.description), "message": .string(blocker.message),
                 "from_seconds": blocker.from.map { .double(Self.rounded($0)) } ?? .null, "until_seconds": blocker.until.map { .double(Self.rounded($0)) } ?? .null]
            }),
            "final_health": .sequence(forecast.finalHealth.map { item in
                ["address": .string(item.id.description), "status": .string(item.health.status.rawValue), "message": .string(item.health.message)]
            }),
            "abort_path": forecast.abortPath.map { abort -> Value in
                ["address": .string(abort.target.description), "step": .int(abort.step), "aborted_at_seconds": .double(Self.rounded(abort.abortedAt)),
                 "restored_at_seconds": .double(Self.rounded(abort.restoredAt)), "message": .string(abort.message)]
            } ?? .null,
            "not_simulated": .sequence(forecast.notSimulated.map { .string($0.description) }),
            "assumptions": .sequence(forecast.assumptions.map(Value.string)),
            "virtual_seconds": .double(Self.rounded(forecast.virtualSeconds)),
            "wall_seconds": .double(Self.rounded(forecast.wallSeconds)),
        ]
    }

    // MARK: - Pieces

    /// `step 2 pause 30s`, or `promote` for the promotion after the last step.
    static func stepName(_ step: Forecast.CanaryStep) -> String {
        step.summary == "promote" ? "promote" : "step \(step.number) \(step.summary)"
    }

    static func capacityLine(_ capacity: Forecast.Capacity) -> String {
        var line = "peak +\(Forecast.cpu(capacity.peakExtraCPU)) CPU, +\(Forecast.memory(capacity.peakExtraMemory)) memory requested"
        if capacity.peakExtraCPU.milli > 0 || capacity.peakExtraMemory.milli > 0 { line += " at \(clock(capacity.peakAt))" }
        line += "; \(Forecast.cpu(capacity.freeCPU)) CPU and \(Forecast.memory(capacity.freeMemory)) free before the sync"
        return line + (capacity.fits ? "" : ": not enough")
    }

    static func abortLine(_ abort: Forecast.AbortPath) -> String {
        "the canary of \(name(abort.target)) aborts at step \(abort.step), \(clock(abort.abortedAt)) into the sync (\(abort.message)); the stable version runs alone again at \(clock(abort.restoredAt))"
    }

    static func window(_ blocker: Forecast.Blocker) -> String {
        guard let from = blocker.from else { return "" }
        if let until = blocker.until { return " (from \(clock(from)) to \(clock(until)), during the rollout)" }
        return " (from \(clock(from)), and still at the end)"
    }

    /// `deployment/web` (namespaced objects keep their namespace when it is not default).
    static func name(_ id: ResourceID) -> String {
        let base = "\(id.kind.lowercased())/\(id.name)"
        guard let namespace = id.namespace, namespace != "default" else { return base }
        return "\(namespace)/" + base
    }

    /// `0:45`, `12:03`, `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        let (hours, minutes, rest) = hms(Int(seconds.rounded()))
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(rest))" : "\(minutes):\(two(rest))"
    }

    /// `00:01:30` for 90 s (at most 23:59:59).
    static func timeOfDay(_ seconds: Int) -> String {
        let (hours, minutes, rest) = hms(min(max(0, seconds), 86_399))
        return "\(two(hours)):\(two(minutes)):\(two(rest))"
    }

    private static func hms(_ total: Int) -> (Int, Int, Int) { (total / 3600, total % 3600 / 60, total % 60) }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    static func whole(_ seconds: Double) -> Int { Int(seconds.rounded(.down)) }

    /// A bar's end: at least a second after its start, so a short wave still shows.
    static func end(_ start: Double, _ end: Double) -> Int { max(Int(end.rounded(.up)), whole(start) + 1) }

    /// A task name Mermaid reads: no colon, hash or semicolon.
    static func label(_ text: String) -> String {
        String(text.map { ":#;".contains($0) ? " " : $0 })
    }

    private func escape(_ text: String) -> String { MarkdownRenderer.escape(text) }
}
