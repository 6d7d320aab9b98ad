import Testing
import WindlassTesting
import WindlassManifest

@Suite("The YAML reader")
struct YAMLReaderTests {
    @Test("every node keeps its span, 1-based")
    func spans() throws {
        let root = try yaml("metadata:\n  name: web\nspec:\n  ports:\n    - 80\n")
        let name = try #require(root[path: ["metadata", "name"]])
        #expect(name.span.start == SourcePosition(line: 2, column: 9))
        let port = try #require(root[path: ["spec", "ports"]]?.sequenceValue?.first)
        #expect(port.span.start == SourcePosition(line: 5, column: 7))
        let entry = try #require(root.mappingValue?.entry(forKey: "spec"))
        #expect(entry.keySpan.start == SourcePosition(line: 3, column: 1))
        #expect(entry.keySpan.file == entry.value.span.file)
    }

    @Test("a node is 40 bytes and a mapping entry 64: the embedded cluster holds millions of them")
    func nodeSize() {
        #expect(MemoryLayout<Value>.stride == 40)
        #expect(MemoryLayout<Mapping.Entry>.stride == 64)
        #expect(MemoryLayout<SourceSpan>.size == 12)
    }

    @Test("multi-document streams keep their order, empty documents included")
    func documents() throws {
        let documents = try YAMLReader.read("a: 1\n---\n---\nb: 2\n...\n---\nc: 3\n")
        #expect(documents.count == 4)
        #expect(documents.map(\.root) == [["a": 1], nil, ["b": 2], ["c": 3]])
        #expect(documents[2].span.start.line == 3)
    }

    @Test("a stream with only comments has no documents")
    func commentsOnly() throws {
        #expect(try YAMLReader.read("# nothing here\n").isEmpty)
        #expect(try YAMLReader.read("").isEmpty)
    }

    @Test("anchors, aliases and merge keys")
    func aliases() throws {
        let root = try yaml(
            """
            base: &base {cpu: 100m, memory: 64Mi}
            small: *base
            large:
              <<: *base
              memory: 1Gi
            list: &l [a, b]
            again: *l
            """
        )
        #expect(root["small"] == ["cpu": "100m", "memory": "64Mi"])
        #expect(root["large"] == ["cpu": "100m", "memory": "1Gi"])
        #expect(root["again"] == ["a", "b"])
    }

    @Test("a mapping equals another with its keys in a different order")
    func orderInsensitiveEquality() throws {
        #expect(try yaml("{a: 1, b: [x, y]}") == yaml("{b: [x, y], a: 1}"))
        #expect(try yaml("{a: 1, b: [x, y]}") != yaml("{a: 1, b: [y, x]}"))
        #expect(try yaml("{a: 1}").hashValue == yaml("a: 1\n").hashValue)
        #expect(try yaml("a: 1") != yaml("a: 1.0"))
    }

    @Test("JSON goes through the same reader")
    func json() throws {
        let root = try yaml(#"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1","b":[true,null,2.5]}}"#)
        #expect(root["data"] == ["a": "1", "b": [true, nil, 2.5]])
        let tabbed = try yaml("{\n\t\"a\": 1,\n\t\"b\": \"x\"\n}\n")
        #expect(tabbed == ["a": 1, "b": "x"])
    }

    @Test("a UTF-8 byte order mark at the start is accepted, as YAML allows")
    func leadingBOM() throws {
        let documents = try YAMLReader.read([0xEF, 0xBB, 0xBF] + Array("a: 1\n".utf8))
        #expect(documents.first?.root == ["a": 1])
    }

    @Test("a byte order mark anywhere else is an error at its place, inside a scalar too", arguments: [
        ("a: \"x\u{FEFF}y\"\n", SourcePosition(line: 1, column: 6)),
        ("a: 1\nb: x\u{FEFF}y\n", SourcePosition(line: 2, column: 5)),
        ("\u{FEFF}a: 1\n---\n\u{FEFF}b: 2\n", SourcePosition(line: 3, column: 1)),
    ])
    func laterBOM(text: String, position: SourcePosition) throws {
        do {
            _ = try YAMLReader.read(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "byte order mark (U+FEFF) in the middle of the file; remove it")
            #expect(error.position == position)
        }
    }

    @Test("duplicate keys are rejected at the second key, in small and large mappings")
    func duplicateKeys() throws {
        #expect(throws: YAMLError.self) { try YAMLReader.read("a: 1\nb: 2\na: 3\n") }
        let many = (0..<40).map { "k\($0): \($0)" }.joined(separator: "\n") + "\nk7: again\n"
        do {
            _ = try YAMLReader.read(many)
            Issue.record("expected a duplicate key error")
        } catch {
            #expect(error.position == SourcePosition(line: 41, column: 1))
            #expect(error.message.contains("duplicate key \"k7\""))
        }
    }

    @Test("nesting deeper than the bound fails fast, in flow and block style")
    func depth() throws {
        let flow = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: YAMLError.self) { try YAMLReader.read(flow) }
        var block = ""
        for depth in 0..<300 {
            block += String(repeating: " ", count: depth) + "k:\n"
        }
        do {
            _ = try YAMLReader.read(block)
            Issue.record("expected a depth error")
        } catch {
            #expect(error.message.contains("deeper than 256"))
        }
        // Within the bound, deep documents are fine.
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try YAMLReader.read(ok).count == 1)
    }

    @Test("an alias bomb fails on reaching the expansion bound")
    func aliasBomb() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        do {
            _ = try YAMLReader.read(text)
            Issue.record("expected an alias expansion error")
        } catch {
            #expect(error.message.contains("alias bomb"))
            #expect(error.position.line <= 7)
        }
    }

    @Test("a scalar larger than the bound is rejected")
    func scalarBound() throws {
        let limits = YAMLLimits(maxScalarBytes: 1024)
        let text = "k: " + String(repeating: "x", count: 2048) + "\n"
        #expect(throws: YAMLError.self) { try YAMLReader.read(text, limits: limits) }
        #expect(try YAMLReader.read("k: " + String(repeating: "x", count: 1000), limits: limits).count == 1)
    }

    @Test("a document larger than the API server takes stops the read where it starts; smaller ones before it are fine")
    func documentBound() throws {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
        for key in 0..<1_000_000 { text += "  k\(key): v\(key)\n" }
        do {
            _ = try YAMLReader.read(text)
            Issue.record("expected a document size error")
        } catch {
            #expect(error.position == SourcePosition(line: 4, column: 1))
            #expect(error.message == "document is larger than 16 MiB (a Kubernetes object is at most 1.5 MiB; split a List into files)")
        }
        #expect(try YAMLReader.read(text, limits: YAMLLimits(maxDocumentBytes: 32 << 20)).count == 2)
    }

    @Test("a 50 MB scalar fails with a located error and bounded memory")
    func hugeScalar() throws {
        var bytes = Array("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: ".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "a"), count: 50 << 20)
        bytes += Array("\n".utf8)
        do {
            _ = try YAMLReader.read(bytes)
            Issue.record("expected a scalar size error")
        } catch {
            #expect(error.position == SourcePosition(line: 5, column: 9))
            #expect(error.message.contains("larger than the limit of 4 MiB"))
        }
    }

    @Test("invalid UTF-8 and NUL bytes are located")
    func encoding() throws {
        do {
            _ = try YAMLReader.read(Array("a: ok\nb: caf".utf8) + [0xE9] + Array("\n".utf8))
            Issue.record("expected an encoding error")
        } catch {
            #expect(error.position == SourcePosition(line: 2, column: 7))
            #expect(error.message.contains("UTF-8"))
        }
        do {
            _ = try YAMLReader.read(Array("a: ok\nb: x".utf8) + [0] + Array("y\n".utf8))
            Issue.record("expected a NUL error")
        } catch {
            #expect(error.position == SourcePosition(line: 2, column: 5))
        }
    }
}
