import Testing
import WindlassManifest

@Suite("Interning values")
struct ValueInternerTests {
    /// The storage a mapping or sequence uses, to tell shared subtrees from equal copies.
    func storage(_ value: Value?) -> UnsafeRawPointer? {
        switch value?.content {
        case .mapping(let mapping)?: return mapping.entries.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        case .sequence(let items)?: return items.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        default: return nil
        }
    }

    let first = """
        metadata: {name: web-1, labels: {app: web}}
        spec:
          containers:
            - name: server
              resources: {requests: {cpu: 100m, memory: 128Mi}}
              ports: [{containerPort: 8080}]
        """
    let second = """
        metadata: {name: web-2, labels: {app: web}}
        spec:
          containers:
            - name: server
              resources: {requests: {cpu: 100m, memory: 128Mi}}
              ports: [{containerPort: 8080}]
        """

    @Test("equal subtrees of two objects share one storage; what differs does not")
    func sharing() throws {
        var interner = ValueInterner()
        let a = interner.intern(try yaml(first))
        let b = interner.intern(try yaml(second))
        #expect(a == (try yaml(first)))
        #expect(b == (try yaml(second)))
        #expect(storage(a["spec"]) == storage(b["spec"]))
        #expect(storage(a[path: ["metadata", "labels"]]) == storage(b[path: ["metadata", "labels"]]))
        #expect(storage(a["metadata"]) != storage(b["metadata"]))
        #expect(storage(a) != storage(b))
        // Without interning, parsing twice gives two storages.
        #expect(storage(try yaml(first)["spec"]) != storage(try yaml(second)["spec"]))
    }

    @Test("key order and a scalar's written text are kept: values print as they did")
    func exact() throws {
        var interner = ValueInterner()
        let ab = interner.intern(try yaml("{a: 1, b: 2}"))
        let ba = interner.intern(try yaml("{b: 2, a: 1}"))
        #expect(ab == ba)
        #expect(ba.mappingValue?.keys == ["b", "a"])
        #expect(storage(ab) != storage(ba))

        let octal = interner.intern(try yaml("{mode: 0755}"))
        let decimal = interner.intern(try yaml("{mode: 493}"))
        #expect(octal == decimal)
        #expect(octal["mode"]?.scalarText == "0755")
        #expect(decimal["mode"]?.scalarText == nil)
        #expect(storage(octal) != storage(decimal))
    }

    @Test("scalars of different kinds never share, nor do a mapping and a sequence")
    func kinds() throws {
        var interner = ValueInterner()
        let values = try ["{x: 1}", "{x: '1'}", "{x: 1.0}", "{x: true}", "{x: null}", "{x: {}}", "{x: []}", "{x: [1]}", "{x: {y: 1}}"].map(yaml)
        let interned = values.map { interner.intern($0) }
        #expect(interned == values)
        #expect(Set(interned.map { storage($0) }).count == values.count)
    }

    @Test("a full table is emptied and interning goes on correctly")
    func bounded() throws {
        var interner = ValueInterner(limit: 8)
        var kept: [Value] = []
        for index in 0..<50 {
            let value = try yaml("{name: item-\(index), spec: {replicas: \(index % 3), template: {labels: {app: web}}}}")
            kept.append(interner.intern(value))
            #expect(kept.last == value)
            #expect(interner.count <= 8)
        }
        #expect(kept[49][path: ["spec", "template"]] == kept[0][path: ["spec", "template"]])
    }
}
