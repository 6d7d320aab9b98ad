/// Keeps one copy of equal subtrees (hash-consing), so that values which repeat each other
/// share their storage: the pods of one template, the conditions written in one pass, the
/// `resources` block every Deployment of a team copies.
///
/// `intern` rebuilds a value bottom-up: each mapping and sequence is replaced by the copy
/// already kept when there is one, and otherwise kept (with no spare capacity) for the next.
/// Equality here is exact, stricter than `Value`'s own: key order and a scalar's written text
/// count, so an interned value prints as it did. Spans do not count; a shared subtree keeps the
/// spans of its first writer, which is why this is for stored objects, not for manifests whose
/// errors must point at their own lines.
///
/// The table holds at most `limit` subtrees and is emptied when full: values interned before
/// stay shared, and the subtrees that keep recurring are kept again at once.
public struct ValueInterner: Sendable {
    private var table = Set<Node>()
    public let limit: Int

    public init(limit: Int = 65_536) {
        self.limit = limit
    }

    /// How many distinct subtrees are kept now.
    public var count: Int { table.count }

    /// `value` with every subtree that equals a kept one replaced by it.
    public mutating func intern(_ value: Value) -> Value {
        intern(value).value
    }

    private mutating func intern(_ value: Value) -> (value: Value, hash: Int) {
        var hasher = Hasher()
        var value = value
        switch value.content {
        case .mapping(let mapping):
            guard !mapping.entries.isEmpty else { return (value, Self.emptyMappingHash) }
            var entries = [Mapping.Entry]()
            entries.reserveCapacity(mapping.entries.count)
            hasher.combine(6)
            hasher.combine(mapping.entries.count)
            for entry in mapping.entries {
                let (child, hash) = intern(entry.value)
                hasher.combine(entry.key)
                hasher.combine(hash)
                entries.append(Mapping.Entry(key: entry.key, keySpan: entry.keySpan, value: child))
            }
            value.content = .mapping(Mapping(entries))
        case .sequence(let items):
            guard !items.isEmpty else { return (value, Self.emptySequenceHash) }
            var out = [Value]()
            out.reserveCapacity(items.count)
            hasher.combine(5)
            hasher.combine(items.count)
            for item in items {
                let (child, hash) = intern(item)
                hasher.combine(hash)
                out.append(child)
            }
            value.content = .sequence(out)
        default:
            hasher.combine(value)
            hasher.combine(value.scalarText)
            return (value, hasher.finalize())
        }
        let node = Node(value: value, hash: hasher.finalize())
        if let kept = table.firstIndex(of: node) {
            return (table[kept].value, node.hash)
        }
        if table.count >= limit { table.removeAll(keepingCapacity: true) }
        table.insert(node)
        return (value, node.hash)
    }

    private static let emptyMappingHash = Value.mapping(Mapping()).hashValue
    private static let emptySequenceHash = Value.sequence([]).hashValue

    /// A kept subtree. Its children are kept ones too, so two nodes are equal when their keys
    /// are and their children are the same storage (or equal scalars): comparing is as cheap
    /// as the node is wide.
    private struct Node: Hashable, @unchecked Sendable {
        let value: Value
        let hash: Int

        func hash(into hasher: inout Hasher) {
            hasher.combine(hash)
        }

        static func == (lhs: Node, rhs: Node) -> Bool {
            guard lhs.hash == rhs.hash else { return false }
            switch (lhs.value.content, rhs.value.content) {
            case (.mapping(let a), .mapping(let b)):
                guard a.entries.count == b.entries.count else { return false }
                for (x, y) in zip(a.entries, b.entries) where x.key != y.key || !same(x.value, y.value) {
                    return false
                }
                return true
            case (.sequence(let a), .sequence(let b)):
                guard a.count == b.count else { return false }
                for (x, y) in zip(a, b) where !same(x, y) {
                    return false
                }
                return true
            default:
                return false
            }
        }

        /// Two interned children: collections by identity, scalars by value and written text.
        private static func same(_ a: Value, _ b: Value) -> Bool {
            switch (a.content, b.content) {
            case (.mapping(let x), .mapping(let y)):
                if x.entries.isEmpty || y.entries.isEmpty { return x.entries.isEmpty && y.entries.isEmpty }
                return x.entries.withUnsafeBufferPointer { p in y.entries.withUnsafeBufferPointer { q in p.baseAddress == q.baseAddress } }
            case (.sequence(let x), .sequence(let y)):
                if x.isEmpty || y.isEmpty { return x.isEmpty && y.isEmpty }
                return x.withUnsafeBufferPointer { p in y.withUnsafeBufferPointer { q in p.baseAddress == q.baseAddress } }
            case (.mapping, _), (.sequence, _), (_, .mapping), (_, .sequence):
                return false
            default:
                return a.content == b.content && a.scalarText == b.scalarText
            }
        }
    }
}
