import Testing
import WindlassManifest
import WindlassTesting

@Suite("The JSON reader")
struct JSONReaderTests {
    /// Same content, same key order and the same written text at every node.
    func same(_ a: Value, _ b: Value) -> Bool {
        guard a == b, a.scalarText == b.scalarText else { return false }
        switch (a.content, b.content) {
        case (.mapping(let x), .mapping(let y)):
            return x.keys == y.keys && zip(x.entries, y.entries).allSatisfy { same($0.value, $1.value) }
        case (.sequence(let x), .sequence(let y)):
            return zip(x, y).allSatisfy { same($0, $1) }
        default:
            return true
        }
    }

    @Test("every bundled manifest and corpus file, written as JSON, reads as YAMLReader reads it")
    func likeYAMLReader() throws {
        let set = try ManifestLoader.load(paths: [repositoryRoot + "/manifests", repositoryRoot + "/Tests/Fixtures/policy-corpus"])
        #expect(set.resources.count > 90)
        for resource in set.resources {
            for writer in [JSONWriter(), JSONWriter(pretty: true)] {
                let json = writer.write(resource.object)
                let expected = try #require(try YAMLReader.read(json).first?.root)
                let read = try #require(try JSONReader.read(json))
                #expect(same(read, expected), "\(resource.id)")
            }
        }
    }

    @Test("numbers, literals and escapes resolve as YAMLReader resolves them")
    func scalars() throws {
        let json = #"""
            {"numbers": [0, -0, 1, -17, 1.0, 1.5, 1e3, 1E-3, -2.5e+2, 9223372036854775807, 9223372036854775808, 12345678901234567890],
             "literals": [true, false, null],
             "strings": ["0755", "yes", ".nan", "", "a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d", "héllo😀"],
             "nested": {"a": {"b": [[], {}, [{}]]}}}
            """#
        let read = try #require(try JSONReader.read(json))
        let expected = try #require(try YAMLReader.read(json).first?.root)
        #expect(same(read, expected))
        #expect(read["strings"]?.sequenceValue?[5].stringValue == "é中")
        // JSON's surrogate pairs (which libyaml refuses) make one character.
        #expect(try JSONReader.read(#""\ud83d\ude00""#) == "😀")
        #expect(read["numbers"]?.sequenceValue?[4].scalarText == "1.0")
        #expect(read["numbers"]?.sequenceValue?[0].intValue == 0)
        #expect(try JSONReader.read("  \n ") == nil)
        #expect(try JSONReader.read("\u{FEFF}[1]") == [1])
    }

    @Test("bad JSON is one located error", arguments: [
        (#"{"a": 1,}"#, "1:9", "expected a key in quotes"),
        ("[1 2]", "1:4", "expected \",\" or \"]\""),
        (#"{"a" 1}"#, "1:6", "expected \":\" after a key"),
        (#"{"a": 1, "a": 2}"#, "1:10", "duplicate key \"a\""),
        (#""abc"#, "1:5", "a string is not closed"),
        (#"{"a": yes}"#, "1:7", "\"yes\" is not JSON"),
        ("[01]", "1:2", "\"01\" is not JSON"),
        (#""a\x""#, "1:4", "unknown escape \\x"),
        (#""\u12""#, "1:4", "four hex digits"),
        ("\"a\u{1}b\"", "1:3", "control character"),
        ("{}\n  x", "2:3", "after the JSON value"),
        ("[", "1:2", "a value is missing"),
        (#"{"a": [1, {"b": "#, "1:17", "a value is missing"),
        (#""\ud83d""#, "1:8", "low surrogate"),
    ])
    func bad(text: String, position: String, message: String) throws {
        do {
            _ = try JSONReader.read(text)
            Issue.record("\(text) was read")
        } catch {
            #expect("\(error.position)" == position, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test("invalid UTF-8 and nesting past the limit are located errors, not crashes")
    func limits() throws {
        let bytes: [UInt8] = Array(#"["ok", ""#.utf8) + [0xC3, 0x28] + Array(#""]"#.utf8)
        #expect(throws: YAMLError.self) {
            try bytes.withUnsafeBufferPointer { buffer throws(YAMLError) in _ = try JSONReader.read(buffer) }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do {
            _ = try JSONReader.read(deep)
            Issue.record("10,000 levels were read")
        } catch {
            #expect(error.message.contains("nesting is deeper than 256 levels"))
        }
    }
}
