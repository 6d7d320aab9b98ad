import Foundation
import Synchronization
import WindlassManifest
import WindlassProcess

/// The kustomize a render runs: a `kustomize` binary (`kustomize build DIR`), or a `kubectl`
/// (`kubectl kustomize DIR`, the kustomize it embeds), and its version.
public struct KustomizeTool: Sendable, Hashable, CustomStringConvertible {
    public enum Mode: String, Sendable, Hashable {
        case kustomize
        case kubectl
    }

    /// The binary's absolute path.
    public var path: String
    public var mode: Mode
    /// kustomize's version (`v5.5.0`), the embedded one for kubectl.
    public var version: String

    /// `kustomize v5.4.2 (/usr/local/bin/kustomize)`, or `kustomize v5.5.0 (embedded in /usr/bin/kubectl)`.
    public var description: String {
        switch mode {
        case .kustomize: "kustomize \(version) (\(path))"
        case .kubectl: "kustomize \(version) (embedded in \(path))"
        }
    }

    /// The arguments that render `directory` (with `settings`' flags).
    func command(_ directory: String, settings: KustomizeSettings) -> [String] {
        var command = mode == .kustomize ? [path, "build", directory] : [path, "kustomize", directory]
        command += settings.buildOptions
        if settings.enableHelm, !settings.buildOptions.contains("--enable-helm") { command.append("--enable-helm") }
        return command
    }

    private static let located = Mutex<[String: KustomizeTool]>([:])

    /// The kustomize `settings` name, else `kustomize` on `PATH`, else `kubectl` on `PATH`;
    /// looked up once per process.
    public static func locate(_ settings: KustomizeSettings, searchPath: String? = nil) throws(KustomizeError) -> KustomizeTool {
        let searchPath = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let key = (settings.binary ?? "") + "\u{0}" + searchPath
        if let tool = located.withLock({ $0[key] }) { return tool }
        let tool: KustomizeTool
        if let binary = settings.binary {
            guard let path = find(binary, in: searchPath) else {
                throw KustomizeError("the kustomize binary \(binary) was not found\(binary.contains("/") ? "" : " on PATH") (kustomize.binary / --kustomize-binary)")
            }
            let name = (path as NSString).lastPathComponent
            tool = try identify(path, mode: name.hasPrefix("kubectl") ? .kubectl : .kustomize)
        } else if let path = find("kustomize", in: searchPath) {
            tool = try identify(path, mode: .kustomize)
        } else if let path = find("kubectl", in: searchPath) {
            tool = try identify(path, mode: .kubectl)
        } else {
            throw KustomizeError(
                "this source holds a kustomization, but neither kustomize nor kubectl is on PATH: install kubectl (1.14 or newer embeds kustomize) or kustomize, or name one with --kustomize-binary"
            )
        }
        located.withLock { $0[key] = tool }
        return tool
    }

    static func find(_ name: String, in searchPath: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        return nil
    }

    /// Asks the binary its version: `kustomize version` prints `v5.4.2` (or, before v5,
    /// `{Version:kustomize/v4.5.7 ...}`); `kubectl version --client -o json` has `kustomizeVersion`.
    static func identify(_ path: String, mode: Mode) throws(KustomizeError) -> KustomizeTool {
        let arguments = mode == .kustomize ? [path, "version"] : [path, "version", "--client", "-o", "json"]
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(arguments, environment: minimalEnvironment(), timeout: 20, maxOutputBytes: 1 << 20)
        } catch {
            throw KustomizeError("\(path) could not be run: \(error.localizedDescription)")
        }
        let text = String(decoding: outcome.stdout, as: UTF8.self)
        guard outcome.status == 0, !outcome.timedOut else {
            let said = String(decoding: outcome.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw KustomizeError("\(path) \(arguments.dropFirst().joined(separator: " ")) failed (exit \(outcome.status))\(said.isEmpty ? "" : ": " + said)")
        }
        switch mode {
        case .kustomize:
            return KustomizeTool(path: path, mode: mode, version: version(fromKustomize: text))
        case .kubectl:
            let document = try? JSONReader.read(text)
            guard let version = document?["kustomizeVersion"]?.stringValue, !version.isEmpty else {
                throw KustomizeError("\(path) embeds no kustomize (kubectl 1.14 or newer does): name a kustomize with --kustomize-binary")
            }
            return KustomizeTool(path: path, mode: mode, version: version)
        }
    }

    static func version(fromKustomize text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let range = trimmed.range(of: #"v\d+\.\d+\.\d+[0-9A-Za-z.+-]*"#, options: .regularExpression) {
            return String(trimmed[range])
        }
        return trimmed.split(separator: "\n").first.map(String.init) ?? "unknown"
    }

    /// What a kustomize child sees: the search path and a locale, nothing of this process's
    /// credentials or proxies.
    static func minimalEnvironment(home: String? = nil) -> [String: String] {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
        if let home { environment["HOME"] = home }
        return environment
    }
}
