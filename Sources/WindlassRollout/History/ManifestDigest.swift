public import WindlassManifest
import WindlassCluster
import WindlassPlan
import Crypto

/// The manifests of a revision, kept so a rollback can apply them again: each resource's object
/// as JSON, one per line, in the set's order, and their digest.
public enum ManifestArchive {
    /// One JSON document per line.
    public static func encode(_ resources: [Resource]) -> String {
        var out = ""
        let writer = JSONWriter(sortKeys: true)
        for resource in resources {
            out += writer.write(resource.object)
            out += "\n"
        }
        return out
    }

    /// `sha256:…` of ``encode(_:)``.
    public static func digest(_ resources: [Resource]) -> String {
        "sha256:" + Hex.string(SHA256.hash(data: Array(encode(resources).utf8)))
    }

    /// The archived objects as a set of manifests named `revision N`.
    public static func decode(_ text: String, revision: Int, defaultNamespace: String = "default") throws(YAMLError) -> ManifestSet {
        var resources: [Resource] = []
        let file = FileID(0)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let document = try YAMLReader.read(String(line), file: file).first else { continue }
            let object = document.root
            guard let id = ResourceID(object: object) else { continue }
            resources.append(Resource(id: id, object: object, span: document.root.span))
        }
        return ManifestSet(files: ["revision \(revision)"], resources: resources)
    }
}
