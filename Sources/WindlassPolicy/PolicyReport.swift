public import WindlassManifest

/// Policy results as people and tools read them: conftest-style lines, JSON, JUnit XML and
/// GitHub workflow annotations, each with the summary
/// `N resources, X passed, Y warnings, Z failures, W exceptions`.
public struct PolicyReport: Sendable {
    public var results: [PolicyResult]
    /// How many resources were judged.
    public var resources: Int
    /// Where the policies were read when that is not the working tree: `policies at 1a2b3c4d
    /// (the base)` for a pull request.
    public var source: String?

    public init(results: [PolicyResult], resources: Int, source: String? = nil) {
        self.results = results
        self.resources = resources
        self.source = source
    }

    public struct Summary: Sendable, Hashable {
        public var passed = 0
        public var warnings = 0
        public var failures = 0
        public var exceptions = 0
    }

    public var summary: Summary {
        var summary = Summary()
        for result in results {
            switch result.status {
            case .pass: summary.passed += 1
            case .warn: summary.warnings += 1
            case .fail: summary.failures += 1
            case .skip: if result.exception != nil { summary.exceptions += 1 }
            }
        }
        return summary
    }

    public var summaryLine: String {
        let s = summary
        func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(count(resources, "resource")), \(s.passed) passed, \(count(s.warnings, "warning")), \(count(s.failures, "failure")), \(count(s.exceptions, "exception"))"
    }

    /// The results that need a reader's attention: failures, then warnings, then exceptions.
    public var findings: [PolicyResult] {
        let rank: [PolicyResult.Status: Int] = [.fail: 0, .warn: 1, .skip: 2]
        return results.enumerated()
            .filter { $0.element.status == .fail || $0.element.status == .warn || $0.element.exception != nil }
            .sorted { (rank[$0.element.status]!, $0.offset) < (rank[$1.element.status]!, $1.offset) }
            .map(\.element)
    }

    /// `FAIL - file:line:col - policy/rule - message`, one line per finding.
    public static func line(_ result: PolicyResult) -> String {
        let label: String
        switch result.status {
        case .fail: label = "FAIL"
        case .warn: label = "WARN"
        case .skip: label = "SKIP"
        case .pass: label = "PASS"
        }
        return "\(label) - \(result.place) - \(result.policy)/\(result.rule) - \(result.message)"
    }

    public func text() -> String {
        findings.map { Self.line($0) + "\n" }.joined() + summaryLine + "\n"
    }

    public func jsonValue() -> Value {
        let s = summary
        return [
            "resources": .int(resources),
            "summary": ["passed": .int(s.passed), "warnings": .int(s.warnings), "failures": .int(s.failures), "exceptions": .int(s.exceptions)],
            "results": .sequence(results.map(Self.jsonValue)),
        ]
    }

    public static func jsonValue(_ result: PolicyResult) -> Value {
        var entries: [Mapping.Entry] = [
            .init(key: "policy", value: .string(result.policy)),
            .init(key: "rule", value: .string(result.rule)),
            .init(key: "check_id", value: result.checkID.map(Value.string) ?? .null),
            .init(key: "status", value: .string(result.status.rawValue)),
            .init(key: "resource", value: .string(result.resource.description)),
            .init(key: "message", value: .string(result.message)),
        ]
        if let exception = result.exception { entries.append(.init(key: "exception", value: .string(exception))) }
        if let location = result.location {
            entries.append(.init(key: "file", value: .string(location.path)))
            if let position = location.position {
                entries.append(.init(key: "line", value: .int(Int(position.line))))
                entries.append(.init(key: "column", value: .int(Int(position.column))))
            }
        }
        return .mapping(Mapping(entries))
    }

    public func json() -> String { JSONWriter(pretty: true).write(jsonValue()) + "\n" }

    /// JUnit XML: a test suite per policy, a test case per rule and resource. Failures are
    /// `<failure>`; warnings too with `failOnWarn`, else they pass with the warning as output.
    public func junit(failOnWarn: Bool = false) -> String {
        var byPolicy: [(String, [PolicyResult])] = []
        var index: [String: Int] = [:]
        for result in results {
            if let i = index[result.policy] {
                byPolicy[i].1.append(result)
            } else {
                index[result.policy] = byPolicy.count
                byPolicy.append((result.policy, [result]))
            }
        }
        let s = summary
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"windlass policy check\" tests=\"\(results.count)\" failures=\"\(s.failures + (failOnWarn ? s.warnings : 0))\">\n"
        for (policy, results) in byPolicy {
            let failures = results.filter { $0.status == .fail || (failOnWarn && $0.status == .warn) }.count
            let skipped = results.filter { $0.status == .skip }.count
            xml += "  <testsuite name=\"\(Self.xml(policy))\" tests=\"\(results.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\">\n"
            for result in results {
                xml += "    <testcase classname=\"\(Self.xml(policy))\" name=\"\(Self.xml(result.rule + " " + result.resource.description))\""
                let detail = Self.xml(result.place + ": " + result.message)
                switch result.status {
                case .pass:
                    xml += "/>\n"
                case .fail:
                    xml += ">\n      <failure type=\"fail\" message=\"\(Self.xml(result.message))\">\(detail)</failure>\n    </testcase>\n"
                case .warn where failOnWarn:
                    xml += ">\n      <failure type=\"warn\" message=\"\(Self.xml(result.message))\">\(detail)</failure>\n    </testcase>\n"
                case .warn:
                    xml += ">\n      <system-out>WARN \(detail)</system-out>\n    </testcase>\n"
                case .skip:
                    xml += ">\n      <skipped message=\"\(Self.xml(result.message))\"/>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    static func xml(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            default:
                // XML 1.0 has no place for other control characters.
                if c.value < 0x20 && c != "\t" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// GitHub workflow commands: `::error` for failures, `::warning` for warnings (and
    /// `::notice` for exceptions), each on its file and line, then the summary.
    public func github() -> String {
        var out = ""
        for result in findings {
            let command = result.status == .fail ? "error" : result.status == .warn ? "warning" : "notice"
            var properties: [String] = []
            if let location = result.location {
                properties.append("file=\(Self.property(location.path))")
                if let position = location.position {
                    properties.append("line=\(position.line)")
                    properties.append("col=\(position.column)")
                }
            }
            properties.append("title=\(Self.property(result.policy + "/" + result.rule))")
            out += "::\(command) \(properties.joined(separator: ","))::\(Self.data(result.resource.description + ": " + result.message))\n"
        }
        return out + summaryLine + "\n"
    }

    static func data(_ text: String) -> String {
        text.replacing("%", with: "%25").replacing("\r", with: "%0D").replacing("\n", with: "%0A")
    }

    static func property(_ text: String) -> String {
        data(text).replacing(":", with: "%3A").replacing(",", with: "%2C")
    }
}
