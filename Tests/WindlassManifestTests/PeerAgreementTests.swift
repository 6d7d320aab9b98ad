import Foundation
import Testing
import WindlassManifest
import WindlassTesting

/// `windlass validate` beside kubernetes-validate (the PyPI package whose schemas Windlass
/// embeds, run as its own process from .venv, which `make pydeps` makes) on the same files: the
/// bundled manifests, the policy corpus and the bad-input corpus.
@Suite("Agreement with kubernetes-validate")
struct PeerAgreementTests {
    static let peer = repositoryRoot + "/.venv/bin/kubernetes-validate"

    static func files() throws -> [String] {
        var out: [String] = []
        for directory in ["manifests", "Tests/Fixtures/policy-corpus", "Tests/WindlassManifestTests/Corpus/bad"] {
            let root = repositoryRoot + "/" + directory
            guard let walk = FileManager.default.enumerator(atPath: root) else { continue }
            for case let path as String in walk where path.hasSuffix(".yaml") {
                out.append(root + "/" + path)
            }
        }
        return out.sorted()
    }

    @Test("every file kubernetes-validate rejects, Windlass rejects too; where it goes further, it says why", .timeLimit(.minutes(5)))
    func agreement() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.peer) else {
            Issue.record("kubernetes-validate is not in .venv: run `make pydeps` (make test does)")
            return
        }
        let files = try Self.files()
        #expect(files.count >= 100)
        // The peer stops at the first file it cannot parse: run it again on the files after it.
        var peerRejected = Set<String>()
        var remaining = files[...]
        var output = ""
        while !remaining.isEmpty {
            // A minute of Python per pass: off the cooperative pool, which every other test needs.
            let arguments = ["--strict", "-k", "1.33.0"] + remaining
            let text = try await offPool { () throws -> String in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: Self.peer)
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return text
            }
            output += text
            var stoppedAt: String?
            for line in text.split(separator: "\n") {
                if line.hasPrefix("ERROR "), let file = remaining.first(where: { line.dropFirst(6).hasPrefix($0 + " ") }) {
                    peerRejected.insert(file)
                } else if line.hasPrefix("Couldn't parse YAML from file "), let file = remaining.first(where: { line.dropFirst(30).hasPrefix($0 + ":") }) {
                    peerRejected.insert(file)
                    stoppedAt = file
                }
            }
            guard let stoppedAt, let index = remaining.firstIndex(of: stoppedAt) else { break }
            remaining = remaining[(index + 1)...]
        }
        var windlassRejected = Set<String>()
        for file in files {
            let set = try ManifestLoader.load(paths: [file])
            let errors = (set.diagnostics + ManifestValidator(kubernetesVersion: 33).validate(set)).filter { $0.severity == .error }
            if !errors.isEmpty { windlassRejected.insert(file) }
        }
        let missed = peerRejected.subtracting(windlassRejected).sorted()
        #expect(missed.isEmpty, "kubernetes-validate rejects, Windlass accepts: \(missed)")
        #expect(peerRejected.count >= 10, "\(peerRejected.count) rejected by the peer:\n\(output)")
        // Windlass rejects more: the bad-input corpus holds what only it checks (enums, duplicate
        // keys, names, labels, selectors, 32-bit overflow). Nothing outside that corpus.
        let onlyWindlass = windlassRejected.subtracting(peerRejected).filter { !$0.contains("/Corpus/bad/") }.sorted()
        #expect(onlyWindlass.isEmpty, "Windlass alone rejects: \(onlyWindlass)")
    }
}
