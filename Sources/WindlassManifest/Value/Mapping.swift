/// An ordered mapping with string keys, as written in the manifest.
///
/// Order is kept so that output reads like the input; equality ignores it. Lookups are linear,
/// which is faster than hashing for the small maps Kubernetes objects are made of.
public struct Mapping: Sendable, RandomAccessCollection {
    /// One `key: value` pair with the span of its key.
    public struct Entry: Sendable {
        public var key: String
        /// Where the key was written; its file is its value's (a key and its value are written
        /// in the same document), so only the position is kept: an entry is 64 bytes.
        public var keyPosition: SourcePosition
        public var value: Value

        public init(key: String, keySpan: SourceSpan = .synthesized, value: Value) {
            self.key = key
            self.keyPosition = keySpan.start
            self.value = value
        }

        /// Where the key was written: its position in its value's file.
        public var keySpan: SourceSpan {
            get { SourceSpan(file: value.span.file, start: keyPosition) }
            set { keyPosition = newValue.start }
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> Entry { entries[position] }

    public var keys: [String] { entries.map(\.key) }

    /// The index of `key`'s entry, if present.
    public func index(forKey key: String) -> Int? {
        let length = key.utf8.count
        // By index: iterating the entries would copy (retain and release) each one looked at.
        var index = entries.startIndex
        while index < entries.endIndex {
            if entries[index].key.utf8.count == length, entries[index].key == key { return index }
            index += 1
        }
        return nil
    }

    /// The value at `path[from...]` below this mapping (a path of mapping keys).
    func value(at path: [String], from start: Int) -> Value? {
        guard let index = index(forKey: path[start]) else { return nil }
        if start + 1 == path.endIndex { return entries[index].value }
        guard case .mapping(let inner) = entries[index].value.content else { return nil }
        return inner.value(at: path, from: start + 1)
    }

    /// The entry for `key`, with its key span.
    public func entry(forKey key: String) -> Entry? {
        index(forKey: key).map { entries[$0] }
    }

    /// The value for `key`. Setting a value replaces it in place or appends it; setting nil
    /// removes the entry.
    public subscript(key: String) -> Value? {
        get {
            guard let index = index(forKey: key) else { return nil }
            return entries[index].value
        }
        set {
            let index = index(forKey: key)
            switch (index, newValue) {
            case (let i?, let v?): entries[i].value = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append(Entry(key: key, value: v))
            case (nil, nil): break
            }
        }
    }
}

extension Mapping: Equatable, Hashable {
    public static func == (lhs: Mapping, rhs: Mapping) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for entry in lhs.entries {
            guard let other = rhs[entry.key], other == entry.value else { return false }
        }
        return true
    }

    /// Order-independent: the sum of the entries' own hashes.
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for entry in entries {
            var h = Hasher()
            h.combine(entry.key)
            h.combine(entry.value)
            sum = sum &+ h.finalize()
        }
        hasher.combine(entries.count)
        hasher.combine(sum)
    }
}
