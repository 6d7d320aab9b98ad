import WindlassManifest

/// Which file of the repository each rendered resource was written in, when kustomize does not
/// say: the resource files and generators of every kustomization the render read, by kind and
/// name. A rendered name is matched exactly, else by the longest source name it contains
/// (kustomize adds prefixes, suffixes and hashes; it never removes a part of a name).
///
/// kustomize can say it itself (`buildMetadata: [originAnnotations]`), and its answer is used
/// when a kustomization asks for it; Windlass does not ask, because it makes kustomize
/// v5.5.0 16 times slower on an overlay of 1,000 resources (28.8 s instead of 1.8 s).
final class OriginIndex {
    private let repository: any FileTree
    /// Kustomization directory → its kustomization file.
    private let kustomizations: [String: String]
    /// Kind → source name → file (the first file to define it).
    private var index: [String: [String: String]]?

    init(repository: any FileTree, kustomizations: [String: String]) {
        self.repository = repository
        self.kustomizations = kustomizations
    }

    /// The repository path of the file a resource of `kind` named `name` came from.
    func file(kind: String, name: String) -> String? {
        let index = self.index ?? build()
        guard let names = index[kind] else { return nil }
        if let exact = names[name] { return exact }
        // kustomize's prefixes end, and its suffixes and hashes start, at a `-`: the longest
        // part of the name between dashes that a source names is the one.
        let utf8 = Array(name.utf8)
        var starts = [0]
        var ends = [utf8.count]
        for (offset, byte) in utf8.enumerated() where byte == UInt8(ascii: "-") {
            starts.append(offset + 1)
            ends.append(offset)
        }
        var best: (length: Int, file: String)?
        for start in starts {
            for end in ends where end - start > (best?.length ?? 0) {
                if let file = names[String(decoding: utf8[start..<end], as: UTF8.self)] { best = (end - start, file) }
            }
        }
        if let best { return best.file }
        // Otherwise (a transformer that renames freely): the longest source name it contains.
        var longest: (name: String, file: String)?
        for (candidate, file) in names where candidate.count > (longest?.name.count ?? 0) && name.contains(candidate) {
            longest = (candidate, file)
        }
        return longest?.file
    }

    private func build() -> [String: [String: String]] {
        var index: [String: [String: String]] = [:]
        func add(_ kind: String, _ name: String, _ file: String) {
            if index[kind]?[name] == nil { index[kind, default: [:]][name] = file }
        }
        for (directory, file) in kustomizations.sorted(by: { $0.key < $1.key }) {
            guard let bytes = try? repository.contents(of: file, limit: 1 << 20), let references = try? KustomizationReferences(bytes) else { continue }
            for (kind, name) in references.generated { add(kind, name, file) }
            for entry in references.entries where entry.field == "resources" || entry.field == "bases" {
                guard let path = KustomizationReferences.resolve(entry.value, in: directory), kustomizations[path] == nil,
                    let contents = try? repository.contents(of: path, limit: 64 << 20),
                    let documents = try? YAMLReader.read(contents)
                else { continue }
                for document in documents {
                    guard let kind = document.root["kind"]?.stringValue, let name = document.root[path: ["metadata", "name"]]?.stringValue else { continue }
                    add(kind, name, path)
                }
            }
        }
        self.index = index
        return index
    }
}
