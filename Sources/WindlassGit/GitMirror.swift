internal import CGit2
import WindlassManifest
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a fetch changed.
public struct FetchResult: Sendable, Hashable {
    /// The branches and tags that moved, appeared or disappeared: name → new SHA (nil when pruned).
    public var updated: [String: String?]
    /// The branch the remote's HEAD points at, when it says.
    public var defaultBranch: String?
}

/// A bare mirror of a remote repository under the state directory
/// (`<state>/repos/<name>-<hash of URL>`), fetched with every branch and tag and pruned of
/// refs the remote deleted. The URL's credentials are never written to disk.
public struct GitMirror: Sendable {
    public let url: RemoteURL
    public let path: String
    public let repository: GitRepository

    /// Opens the mirror of `url`, creating an empty one on first use.
    public init(url: RemoteURL, stateDirectory: String) throws(GitError) {
        LibGit2.ensureInitialized()
        self.url = url
        path = Self.directory(for: url, stateDirectory: stateDirectory)
        if !GitRepository.isRepository(path) {
            try Self.makeDirectories(stateDirectory + "/repos", display: url.description)
            var repository: OpaquePointer?
            let result = git_repository_init(&repository, path, 1)
            guard result == 0, let repository else {
                throw LibGit2.lastError(result, operation: "create mirror", repository: url.description)
            }
            git_repository_free(repository)
        }
        repository = try GitRepository(path: path, displayName: url.description)
    }

    /// `<state>/repos/<last path component>-<12 hex digits of the SHA-1 of the URL without
    /// credentials>`.
    public static func directory(for url: RemoteURL, stateDirectory: String) -> String {
        LibGit2.ensureInitialized()
        let identity = Array(url.identity.utf8)
        var oid = git_oid()
        _ = identity.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
        let hash = String(ObjectID(oid).description.prefix(12))
        var name = url.identity.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? "repo"
        if name.hasSuffix(".git") { name.removeLast(4) }
        let safe = String(name.unicodeScalars.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "-" })
        return "\(stateDirectory)/repos/\(safe.isEmpty ? "repo" : safe)-\(hash)"
    }

    private static func makeDirectories(_ path: String, display: String) throws(GitError) {
        if let problem = makePrivateDirectories(path) { throw GitError(.other, operation: "create mirror", repository: display, message: problem) }
    }

    /// Fetches every branch and tag, prunes refs the remote no longer has, and points the
    /// mirror's HEAD where the remote's points. Blocks; see ``GitRepository/offloaded(_:)``.
    public func fetch(credentials: GitCredentials = .none) throws(GitError) -> FetchResult {
        let display = url.description
        return try repository.pool.withHandle { (handle) throws(GitError) in
            let before = (try? referenceTargets(handle)) ?? [:]
            var remote: OpaquePointer?
            let created = git_remote_create_anonymous(&remote, handle.pointer, url.raw)
            guard created == 0, let remote else {
                throw LibGit2.lastError(created, operation: "fetch", repository: display)
            }
            defer { git_remote_free(remote) }

            let box = CredentialBox(credentials: credentials, url: url)
            let payload = Unmanaged.passRetained(box)
            defer { payload.release() }
            var options = git_fetch_options()
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
            options.callbacks.credentials = credentialCallback
            options.callbacks.certificate_check = certificateCallback
            options.callbacks.payload = payload.toOpaque()
            options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
            options.update_fetchhead = 0

            let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
            let result = withStringArray(refspecs) { array in
                git_remote_fetch(remote, array, &options, "windlass fetch")
            }
            guard result == 0 else {
                var error = LibGit2.lastError(result, operation: "fetch", repository: display)
                if box.failedAuthentication || box.rejectedHostKey { error.code = .authentication }
                throw error
            }

            // The refs the remote advertised, to prune what it deleted and follow its HEAD.
            var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
            var count = 0
            var advertised = Set<String>()
            var defaultBranch: String? = nil
            if git_remote_ls(&heads, &count, remote) == 0, let heads {
                for i in 0..<count {
                    guard let head = heads[i] else { continue }
                    let name = String(cString: head.pointee.name)
                    advertised.insert(name)
                    if name == "HEAD", let target = head.pointee.symref_target {
                        defaultBranch = String(cString: target)
                    }
                }
            }
            for name in before.keys where !advertised.contains(name) && !name.hasSuffix("^{}") {
                var reference: OpaquePointer?
                if git_reference_lookup(&reference, handle.pointer, name) == 0, let reference {
                    git_reference_delete(reference)
                    git_reference_free(reference)
                }
            }
            if let defaultBranch, advertised.contains(defaultBranch) {
                git_repository_set_head(handle.pointer, defaultBranch)
            }

            let after = (try? referenceTargets(handle)) ?? [:]
            var updated: [String: String?] = [:]
            for (name, sha) in after where before[name] != sha { updated[name] = sha }
            for name in before.keys where after[name] == nil { updated[name] = .some(nil) }
            return FetchResult(updated: updated, defaultBranch: defaultBranch)
        }
    }

    /// Branches and tags → the objects they point at.
    private func referenceTargets(_ handle: RepositoryHandle) throws(GitError) -> [String: String] {
        var names = git_strarray()
        let result = git_reference_list(&names, handle.pointer)
        guard result == 0 else { throw LibGit2.lastError(result, operation: "list refs", repository: url.description) }
        defer { git_strarray_dispose(&names) }
        var out: [String: String] = [:]
        for i in 0..<names.count {
            let name = String(cString: names.strings[i]!)
            var oid = git_oid()
            if git_reference_name_to_id(&oid, handle.pointer, name) == 0 {
                out[name] = ObjectID(oid).description
            }
        }
        return out
    }
}

/// Calls `body` with a `git_strarray` of C copies of `strings`.
func withStringArray<T>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) -> T) -> T {
    let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count)
    for (i, s) in strings.enumerated() { (pointers + i).initialize(to: strdup(s)) }
    defer {
        for i in 0..<strings.count { free(pointers[i]) }
        pointers.deallocate()
    }
    var array = git_strarray(strings: pointers, count: strings.count)
    return body(&array)
}

/// What the credential callback needs, passed through libgit2's payload.
final class CredentialBox {
    let credentials: GitCredentials
    let url: RemoteURL
    var attempts = 0
    var failedAuthentication = false
    var rejectedHostKey = false

    init(credentials: GitCredentials, url: RemoteURL) {
        self.credentials = credentials
        self.url = url
    }
}

/// SSH host keys must be listed in the known_hosts file; TLS certificates are left to libgit2's
/// own verification.
private let certificateCallback: git_transport_certificate_check_cb = { cert, valid, host, payload in
    guard let cert, let payload else { return GIT_PASSTHROUGH.rawValue }
    guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
    let box = Unmanaged<CredentialBox>.fromOpaque(payload).takeUnretainedValue()
    let hostname = host.map { String(cString: $0) } ?? "?"
    let file = box.credentials.sshKnownHosts ?? "~/.ssh/known_hosts"
    let hostkey = UnsafeRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
    guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
        box.rejectedHostKey = true
        git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), "cannot check the host key of \(hostname): the SSH library gave no key")
        return GIT_ECERTIFICATE.rawValue
    }
    let key = base64(UnsafeRawBufferPointer(start: raw, count: hostkey.hostkey_len))
    if KnownHosts(path: file).accepts(host: hostname, port: box.url.port ?? 22, key: key) {
        return 0
    }
    box.rejectedHostKey = true
    git_error_set_str(
        Int32(GIT_ERROR_SSH.rawValue),
        "the host key of \(hostname) is not listed in \(file) (plain entries only; set WINDLASS_GIT_SSH_KNOWN_HOSTS)"
    )
    return GIT_ECERTIFICATE.rawValue
}

/// libgit2 asks for credentials when the remote wants them; a second ask means the first were
/// refused, and the fetch fails as an authentication error rather than asking forever.
private let credentialCallback: git_credential_acquire_cb = { out, _, usernameFromURL, allowedTypes, payload in
    guard let payload, let out else { return -1 }
    let box = Unmanaged<CredentialBox>.fromOpaque(payload).takeUnretainedValue()
    box.attempts += 1
    if box.attempts > 1 {
        box.failedAuthentication = true
        git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication failed: the remote refused the credentials")
        return GIT_EAUTH.rawValue
    }
    let credentials = box.credentials
    let urlUser = usernameFromURL.map { String(cString: $0) }
    if allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
        let user = credentials.username ?? urlUser ?? box.url.user ?? "git"
        guard let password = credentials.password ?? box.url.password else {
            box.failedAuthentication = true
            git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication required: no token or password given (see WINDLASS_GIT_TOKEN)")
            return GIT_EAUTH.rawValue
        }
        return git_credential_userpass_plaintext_new(out, user, password)
    }
    if allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
        let user = urlUser ?? credentials.username ?? "git"
        if let key = credentials.sshKeyPath {
            return git_credential_ssh_key_new(out, user, nil, key, credentials.sshKeyPassphrase)
        }
        return git_credential_ssh_key_from_agent(out, user)
    }
    if allowedTypes & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
        return git_credential_username_new(out, urlUser ?? credentials.username ?? "git")
    }
    box.failedAuthentication = true
    git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication required, of a kind Windlass cannot provide")
    return GIT_EAUTH.rawValue
}
