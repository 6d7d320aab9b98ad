public import Logging
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log: one structured line per sync, rollout step and drift finding, as text
/// (`time level message key=value …`) or JSON (one object per line).
public struct DaemonLog: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public let logger: Logger

    public init(format: Format, level: Logger.Level = .info) {
        var logger = Logger(label: "windlass") { _ in LineHandler(format: format) }
        logger.logLevel = level
        self.logger = logger
    }

    public func event(_ message: String, _ fields: [String: String] = [:], level: Logger.Level = .info) {
        logger.log(level: level, "\(message)", metadata: fields.mapValues { .string($0) })
    }

    /// A sync's progress: stages, applies, hooks and canary steps at info; waits at debug.
    func syncEvent(_ application: String, _ event: SyncEvent) {
        var fields = ["application": application]
        switch event {
        case .stageStarted(let stage, let count):
            fields["stage"] = "\(stage)"
            fields["resources"] = String(count)
            self.event("stage started", fields)
        case .applied(let id, let action):
            fields["resource"] = id.description
            fields["action"] = action.rawValue
            self.event("applied", fields)
        case .stageFinished(let stage):
            fields["stage"] = "\(stage)"
            self.event("stage healthy", fields)
        case .hookFinished(let id, let succeeded, let message):
            fields["resource"] = id.description
            fields["succeeded"] = String(succeeded)
            fields["message"] = message
            self.event("hook finished", fields)
        case .retrying(let id, let attempt, let error):
            fields["resource"] = id.description
            fields["attempt"] = String(attempt)
            fields["error"] = error
            self.event("retrying", fields, level: .warning)
        case .canary(let progress):
            fields["target"] = progress.target.description
            fields["step"] = "\(min(progress.step + 1, progress.stepCount))/\(progress.stepCount)"
            fields["weight"] = String(progress.weight)
            fields["phase"] = progress.phase.rawValue
            if !progress.message.isEmpty { fields["message"] = progress.message }
            if let last = progress.measurements.last {
                let values = last.values.map { String(Double(Int(($0 * 1000).rounded())) / 1000) }.joined(separator: ",")
                fields["measurement"] = "\(last.metric)=[\(values)] \(last.phase.rawValue)"
            }
            self.event("rollout step", fields)
        case .waiting(let stage, let pending):
            fields["stage"] = "\(stage)"
            fields["pending"] = String(pending.count)
            self.event("waiting", fields, level: .debug)
        @unknown default:
            self.event(String(describing: event), fields, level: .debug)
        }
    }
}

/// Writes each record as one line on stderr.
struct LineHandler: LogHandler {
    let format: DaemonLog.Format
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        var fields = metadata
        if let extra { fields.merge(extra) { $1 } }
        let time = Self.timestamp()
        var text: String
        switch format {
        case .text:
            text = "\(time) \(level.rawValue.uppercased()) \(message)"
            for key in fields.keys.sorted() {
                let value = "\(fields[key]!)"
                text += " \(key)=" + (value.contains(" ") || value.contains("\"") || value.isEmpty ? JSONWriter().write(.string(value)) : value)
            }
        case .json:
            var entries: [Mapping.Entry] = [
                .init(key: "time", value: .string(time)), .init(key: "level", value: .string(level.rawValue)),
                .init(key: "msg", value: .string("\(message)")),
            ]
            for key in fields.keys.sorted() { entries.append(.init(key: key, value: .string("\(fields[key]!)"))) }
            text = JSONWriter().write(.mapping(Mapping(entries)))
        }
        text += "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    /// `2026-11-27T21:40:03.125Z`.
    static func timestamp() -> String {
        let now = SystemClock().now()
        let millis = Int((now - now.rounded(.down)) * 1000)
        let text = String(millis)
        return String(Timestamp.rfc3339(now).dropLast()) + "." + String(repeating: "0", count: 3 - text.count) + text + "Z"
    }

}
