public import Logging
import WindlassCore
import WindlassGit
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
        logger.log(level: level, "\(message)", metadata: fields.mapValues { .string(RemoteURL.redactCredentials(in: $0)) })
    }

    /// An event whose fields may be numbers or booleans (JSON writes them as such).
    public func event(_ message: String, fields: [String: LogValue], level: Logger.Level = .info) {
        logger.log(level: level, "\(message)", metadata: fields.mapValues(\.redacted.metadata))
    }

    /// A sync's progress: stages, applies, hooks and canary steps at info; waits at debug.
    func syncEvent(_ application: String, _ event: SyncEvent) {
        var fields: [String: LogValue] = ["application": .string(application)]
        switch event {
        case .stageStarted(let stage, let count):
            fields["stage"] = .string("\(stage)")
            fields["resources"] = .int(count)
            self.event("stage started", fields: fields)
        case .applied(let id, let action):
            fields["resource"] = .string(id.description)
            fields["action"] = .string(action.rawValue)
            self.event("applied", fields: fields)
        case .stageFinished(let stage):
            fields["stage"] = .string("\(stage)")
            self.event("stage healthy", fields: fields)
        case .hookFinished(let id, let succeeded, let message):
            fields["resource"] = .string(id.description)
            fields["succeeded"] = .bool(succeeded)
            fields["message"] = .string(message)
            self.event("hook finished", fields: fields)
        case .retrying(let id, let attempt, let error):
            fields["resource"] = .string(id.description)
            fields["attempt"] = .int(attempt)
            fields["error"] = .string(error)
            self.event("retrying", fields: fields, level: .warning)
        case .canary(let progress):
            fields["target"] = .string(progress.target.description)
            fields["step"] = .string("\(min(progress.step + 1, progress.stepCount))/\(progress.stepCount)")
            fields["weight"] = .int(progress.weight)
            fields["phase"] = .string(progress.phase.rawValue)
            if !progress.message.isEmpty { fields["message"] = .string(progress.message) }
            if let last = progress.measurements.last {
                let values = last.values.map { String(Double(Int(($0 * 1000).rounded())) / 1000) }.joined(separator: ",")
                fields["measurement"] = .string("\(last.metric)=[\(values)] \(last.phase.rawValue)")
            }
            self.event("rollout step", fields: fields)
        case .waiting(let stage, let pending):
            fields["stage"] = .string("\(stage)")
            fields["pending"] = .int(pending.count)
            self.event("waiting", fields: fields, level: .debug)
        @unknown default:
            self.event(String(describing: event), fields: fields, level: .debug)
        }
    }
}

/// A log field: text, or a number or boolean that JSON logs write as one.
public enum LogValue: Sendable, ExpressibleByStringLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }

    /// A string with any URL's credentials redacted; other values as they are.
    var redacted: LogValue {
        guard case .string(let text) = self else { return self }
        return .string(RemoteURL.redactCredentials(in: text))
    }

    var metadata: Logger.MetadataValue {
        switch self {
        case .string(let text): return .string(text)
        case .int(let int): return .stringConvertible(int)
        case .double(let double): return .stringConvertible(double)
        case .bool(let bool): return .stringConvertible(bool)
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
            for key in fields.keys.sorted() { entries.append(.init(key: key, value: Self.json(fields[key]!))) }
            text = JSONWriter().write(.mapping(Mapping(entries)))
        }
        text += "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    /// Numbers and booleans as JSON has them; everything else as a string.
    static func json(_ value: Logger.MetadataValue) -> Value {
        if case .stringConvertible(let convertible) = value {
            switch convertible {
            case let int as Int: return .int(int)
            case let double as Double: return double.isFinite ? .double(double) : .string(String(double))
            case let bool as Bool: return .bool(bool)
            default: break
            }
        }
        return .string("\(value)")
    }

    /// `2026-11-27T21:40:03.125Z`.
    static func timestamp() -> String {
        let now = SystemClock().now()
        let millis = Int((now - now.rounded(.down)) * 1000)
        let text = String(millis)
        return String(Timestamp.rfc3339(now).dropLast()) + "." + String(repeating: "0", count: 3 - text.count) + text + "Z"
    }

}
