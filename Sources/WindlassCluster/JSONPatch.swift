public import WindlassManifest

/// JSON Patch (RFC 6902), as `kubectl patch --type json` sends it: `add`, `remove`, `replace`,
/// `move`, `copy` and `test` operations on JSON Pointers (RFC 6901). The operations apply in
/// order to a copy; any one that fails fails the whole patch and nothing changes.
public enum JSONPatch {
    public static func apply(_ operations: Value, to target: Value) throws(ClusterError) -> Value {
        guard let list = operations.sequenceValue else {
            throw ClusterError(.badRequest, "a JSON patch must be a list of operations, not \(operations.typeName)")
        }
        var document = target
        for (index, operation) in list.enumerated() {
            guard let op = operation["op"]?.stringValue else {
                throw ClusterError(.badRequest, "JSON patch operation \(index) has no \"op\"")
            }
            guard let pathText = operation["path"]?.stringValue else {
                throw ClusterError(.badRequest, "JSON patch operation \(index) (\(op)) has no \"path\"")
            }
            let path = try pointer(pathText)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw ClusterError(.badRequest, "JSON patch operation \(index) (add) has no \"value\"") }
                try add(value, at: path, in: &document, original: pathText)
            case "remove":
                _ = try remove(at: path, in: &document, original: pathText)
            case "replace":
                guard let value = operation["value"] else { throw ClusterError(.badRequest, "JSON patch operation \(index) (replace) has no \"value\"") }
                _ = try remove(at: path, in: &document, original: pathText)
                try add(value, at: path, in: &document, original: pathText)
            case "move", "copy":
                guard let fromText = operation["from"]?.stringValue else {
                    throw ClusterError(.badRequest, "JSON patch operation \(index) (\(op)) has no \"from\"")
                }
                let from = try pointer(fromText)
                let value: Value
                if op == "move" {
                    value = try remove(at: from, in: &document, original: fromText)
                } else {
                    guard let found = resolve(from, in: document) else { throw missing(fromText) }
                    value = found
                }
                try add(value, at: path, in: &document, original: pathText)
            case "test":
                guard let found = resolve(path, in: document) else { throw missing(pathText) }
                if found != (operation["value"] ?? .null) {
                    throw ClusterError(.invalid, "the JSON patch test at \"\(pathText)\" failed: the value differs")
                }
            default:
                throw ClusterError(.badRequest, "JSON patch operation \(index) has an unknown op \"\(op)\"")
            }
        }
        return document
    }

    static func missing(_ path: String) -> ClusterError {
        ClusterError(.invalid, "the JSON patch path \"\(path)\" does not exist in the object")
    }

    /// The reference tokens of a JSON Pointer: `/a/b~1c` → `a`, `b/c`.
    static func pointer(_ text: String) throws(ClusterError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw ClusterError(.badRequest, "the JSON pointer \"\(text)\" does not start with /") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    static func resolve(_ path: [String], in value: Value) -> Value? {
        var current = value
        for token in path {
            if let list = current.sequenceValue {
                guard let index = Int(token), index >= 0, index < list.count else { return nil }
                current = list[index]
            } else if current.mappingValue != nil {
                guard let next = current[token] else { return nil }
                current = next
            } else {
                return nil
            }
        }
        return current
    }

    static func add(_ value: Value, at path: [String], in document: inout Value, original: String) throws(ClusterError) {
        guard let last = path.last else {
            document = value
            return
        }
        try modifyParent(of: path, in: &document, original: original) { (parent) throws(ClusterError) in
            if var list = parent.sequenceValue {
                let index = last == "-" ? list.count : Int(last) ?? -1
                guard index >= 0, index <= list.count else { throw ClusterError(.invalid, "the JSON patch index in \"\(original)\" is out of range") }
                list.insert(value, at: index)
                parent = .sequence(list)
            } else if parent.mappingValue != nil {
                parent.set(value, at: [last])
            } else {
                throw missing(original)
            }
        }
    }

    static func remove(at path: [String], in document: inout Value, original: String) throws(ClusterError) -> Value {
        guard let last = path.last else { throw ClusterError(.invalid, "the JSON patch cannot remove the whole object") }
        var removed = Value.null
        try modifyParent(of: path, in: &document, original: original) { (parent) throws(ClusterError) in
            if var list = parent.sequenceValue {
                guard let index = Int(last), index >= 0, index < list.count else { throw missing(original) }
                removed = list.remove(at: index)
                parent = .sequence(list)
            } else if let found = parent[last] {
                removed = found
                parent.remove(at: [last])
            } else {
                throw missing(original)
            }
        }
        return removed
    }

    /// Runs `body` on the container of the pointer's last token.
    private static func modifyParent(
        of path: [String], in document: inout Value, original: String, _ body: (inout Value) throws(ClusterError) -> Void
    ) throws(ClusterError) {
        if path.count == 1 {
            try body(&document)
            return
        }
        let head = path[0]
        if var list = document.sequenceValue {
            guard let index = Int(head), index >= 0, index < list.count else { throw missing(original) }
            try modifyParent(of: Array(path.dropFirst()), in: &list[index], original: original, body)
            document = .sequence(list)
        } else if var child = document[head] {
            try modifyParent(of: Array(path.dropFirst()), in: &child, original: original, body)
            document.set(child, at: [head])
        } else {
            throw missing(original)
        }
    }
}
