/// How an application's kustomizations are rendered: which kustomize, with which flags, and
/// what a kustomization may reach.
///
/// The defaults are Argo CD's: the reference kustomize, its root-only load restrictor, no
/// remote bases and no Helm unless allowed, and a time limit on every render.
public struct KustomizeSettings: Sendable, Hashable {
    /// The kustomize to run: a path, or a name looked up on `PATH` (`kustomize`, or a `kubectl`,
    /// whose `kubectl kustomize` embeds it). Nil: `kustomize` when on `PATH`, else `kubectl`.
    public var binary: String?
    /// Flags added to every `kustomize build` (`--load-restrictor`, `--enable-alpha-plugins`,
    /// ...), as Argo CD's `kustomize.buildOptions`.
    public var buildOptions: [String]
    /// Whether kustomizations may name remote resources (URLs, `github.com/...` bases).
    public var allowRemoteResources: Bool
    /// Whether `helmCharts` are inflated (`--enable-helm`).
    public var enableHelm: Bool
    /// Seconds one render may take.
    public var timeout: Double
    /// Bytes one render may print.
    public var maxOutputBytes: Int

    public init(
        binary: String? = nil, buildOptions: [String] = [], allowRemoteResources: Bool = false, enableHelm: Bool = false, timeout: Double = 60,
        maxOutputBytes: Int = 256 << 20
    ) {
        self.binary = binary
        self.buildOptions = buildOptions
        self.allowRemoteResources = allowRemoteResources
        self.enableHelm = enableHelm
        self.timeout = timeout
        self.maxOutputBytes = maxOutputBytes
    }
}

/// A render that could not be made, said in one line.
public struct KustomizeError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
