import Crypto
import Foundation
import NIOSSL
public import WindlassCluster
import WindlassManifest
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// What the API server proves and checks: a certificate authority of its own, a serving
/// certificate it signed (ECDSA P-256) for the loopback names and the listen host, and two
/// bearer tokens (one may change the cluster, one may only read it). Made once under
/// `<state>/api/` (files 0600 in a 0700 directory) and read back on every start; the serving
/// certificate is made again, by the same authority, when the listen host is not among its
/// names.
public struct ServingIdentity: Sendable {
    public var caCertificatePEM: String
    public var certificatePEM: String
    public var privateKeyPEM: String
    public var adminToken: String
    public var readOnlyToken: String
    /// The names the serving certificate is valid for.
    public var names: [String]

    /// The directory under the state directory that holds the identity.
    public static func directory(in stateDirectory: String) -> String { stateDirectory + "/api" }

    /// Loads the identity in `stateDirectory`, making what is missing; `host` is the host the
    /// server listens on (a name or an address), which the serving certificate must name.
    public static func loadOrCreate(in stateDirectory: String, host: String) throws(ClusterError) -> ServingIdentity {
        let directory = directory(in: stateDirectory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(directory, 0o700)
            let caKeyPath = directory + "/ca.key"
            let caCertPath = directory + "/ca.crt"
            let caKey: P256.Signing.PrivateKey
            let caCertificate: Certificate
            if let keyPEM = read(caKeyPath), let certPEM = read(caCertPath) {
                caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
                caCertificate = try Certificate(pemEncoded: certPEM)
            } else {
                caKey = P256.Signing.PrivateKey()
                caCertificate = try makeAuthority(key: caKey)
                try write(caKey.pemRepresentation, to: caKeyPath)
                try write(try caCertificate.serializeAsPEM().pemString, to: caCertPath)
            }
            let names = servingNames(host: host)
            let namesPath = directory + "/server.names"
            var certificatePEM = read(directory + "/server.crt")
            var keyPEM = read(directory + "/server.key")
            let recorded = read(namesPath)?.split(separator: "\n").map(String.init) ?? []
            if certificatePEM == nil || keyPEM == nil || !Set(names).isSubset(of: Set(recorded)) {
                let key = P256.Signing.PrivateKey()
                let certificate = try makeServing(key: key, names: names, authority: caCertificate, authorityKey: caKey)
                certificatePEM = try certificate.serializeAsPEM().pemString
                keyPEM = key.pemRepresentation
                try write(keyPEM!, to: directory + "/server.key")
                try write(certificatePEM!, to: directory + "/server.crt")
                try write(names.joined(separator: "\n") + "\n", to: namesPath)
            }
            let tokensPath = directory + "/tokens"
            var tokens = (read(tokensPath) ?? "").split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
            if tokens.count < 2 || tokens.contains(where: { $0.count != 2 }) {
                tokens = [["admin", BearerToken.make()], ["read-only", BearerToken.make()]]
                try write(tokens.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n", to: tokensPath)
            }
            func token(_ user: String) -> String { tokens.first { $0[0] == user }?[1] ?? "" }
            return ServingIdentity(
                caCertificatePEM: try caCertificate.serializeAsPEM().pemString, certificatePEM: certificatePEM!, privateKeyPEM: keyPEM!,
                adminToken: token("admin"), readOnlyToken: token("read-only"), names: names.isEmpty ? recorded : names)
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.internalError, "cannot make the API server's certificates in \(directory): \(error)")
        }
    }

    /// The TLS configuration of a server with this identity: TLS 1.2 or newer.
    func tlsConfiguration() throws(ClusterError) -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch {
            throw ClusterError(.internalError, "the API server's certificate is unreadable: \(error)")
        }
    }

    /// A kubeconfig for `server` (`https://127.0.0.1:6443`): the authority's certificate, the
    /// admin user (or the read-only one), one context, current.
    public func kubeconfig(server: String, readOnly: Bool = false) -> String {
        let user = readOnly ? "windlass-read-only" : "windlass-admin"
        let ca = Data(caCertificatePEM.utf8).base64EncodedString()
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: windlass
              cluster:
                server: \(server)
                certificate-authority-data: \(ca)
            users:
            - name: \(user)
              user:
                token: \(readOnly ? readOnlyToken : adminToken)
            contexts:
            - name: windlass
              context:
                cluster: windlass
                user: \(user)
            current-context: windlass
            preferences: {}

            """
    }

    /// The server URL a client on this machine uses for a listen address: a wildcard host is
    /// reached through loopback.
    public static func serverURL(host: String, port: Int) -> String {
        let reachable = host == "0.0.0.0" || host.isEmpty ? "127.0.0.1" : host == "::" ? "::1" : host
        return "https://" + (reachable.contains(":") ? "[\(reachable)]" : reachable) + ":\(port)"
    }

    /// Writes `<state>/kubeconfig` (mode 0600) for the server at `url`.
    public func writeKubeconfig(in stateDirectory: String, server url: String) throws(ClusterError) {
        do {
            try Self.write(kubeconfig(server: url), to: stateDirectory + "/kubeconfig")
        } catch {
            throw ClusterError(.internalError, "cannot write \(stateDirectory)/kubeconfig: \(error)")
        }
    }

    // MARK: - Making

    static func servingNames(host: String) -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if !bare.isEmpty, bare != "0.0.0.0", bare != "::", !names.contains(bare) { names.append(bare) }
        return names
    }

    private static func makeAuthority(key: P256.Signing.PrivateKey) throws -> Certificate {
        let name = try DistinguishedName { CommonName("windlass-ca") }
        let now = Date()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 10 * 365 * 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    private static func makeServing(
        key: P256.Signing.PrivateKey, names: [String], authority: Certificate, authorityKey: P256.Signing.PrivateKey
    ) throws -> Certificate {
        let subject = try DistinguishedName { CommonName("windlass-apiserver") }
        let now = Date()
        let generalNames: [GeneralName] = names.map { name in
            if let bytes = IPAddress.bytes(of: name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))) }
            return .dnsName(name)
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 2 * 365 * 86_400, issuer: authority.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(generalNames)
            },
            issuerPrivateKey: .init(authorityKey))
    }

    private static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// Writes a file readable by its owner only, replacing it whole.
    private static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClusterError(.internalError, "cannot write \(path)")
        }
        chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else { throw ClusterError(.internalError, "cannot write \(path)") }
    }
}

/// IP address text to bytes.
enum IPAddress {
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
