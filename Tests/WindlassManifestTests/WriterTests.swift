import Testing
import WindlassTesting
import WindlassManifest

@Suite("YAML and JSON writers")
struct WriterTests {
    static let samples: [String] = [
        "a: 1\nb: [x, y]\nc: {d: e}\n",
        "mode: 0755\nflag: yes\nempty: ''\nnull: ~\nquoted: 'true'\nnum: '123'\n",
        "text: |\n  line one\n  line two\nkeep: |+\n  a\n\nstrip: |-\n  no newline\n",
        "odd: 'a: b'\nhash: 'x #y'\nlead: '- x'\ncolon: 'x:'\nbrackets: '[x]'\nstar: '*x'\nspace: ' x'\n",
        "ctrl: \"tab\\there\\u0001\"\nunicode: héllo wörld ✓\nquote: \"it's \\\"q\\\"\"\n",
        "- a\n- - b\n  - c\n- d: e\n  f: [g]\n- []\n- {}\n",
        "float: 1.5e-7\nneg: -.inf\nbig: 12345678901234\nkey with space: v\n'yes': key\n",
    ]

    @Test("YAML written from a value reads back as the same value", arguments: samples)
    func yamlRoundTrip(text: String) throws {
        let value = try yaml(text)
        for writer in [YAMLWriter(), YAMLWriter(sortKeys: true, preservesScalarText: false)] {
            let written = writer.write(value)
            #expect(try yaml(written) == value, "\(written)")
        }
    }

    /// JSON has no infinities (they become strings), so samples with them are left out.
    @Test("JSON written from a value reads back as the same value", arguments: samples.filter { !$0.contains(".inf") })
    func jsonRoundTrip(text: String) throws {
        let value = try yaml(text)
        for writer in [JSONWriter(), JSONWriter(pretty: true, sortKeys: true)] {
            #expect(try yaml(writer.write(value)) == value)
        }
    }

    @Test("the same value always gives the same text, whatever its key order, when keys are sorted")
    func deterministic() throws {
        let a = try yaml("{b: 1, a: [x, {d: 1, c: 2}]}")
        let b = try yaml("{a: [x, {c: 2, d: 1}], b: 1}")
        #expect(YAMLWriter(sortKeys: true).write(a) == YAMLWriter(sortKeys: true).write(b))
        #expect(JSONWriter(sortKeys: true).write(a) == JSONWriter(sortKeys: true).write(b))
        #expect(JSONWriter(sortKeys: true).write(a) == #"{"a":["x",{"c":2,"d":1}],"b":1}"#)
    }

    @Test("scalars print as the user wrote them, unless asked not to")
    func writtenText() throws {
        let value = try yaml("mode: 0755\nflag: on\n")
        #expect(YAMLWriter().write(value) == "mode: 0755\nflag: on\n")
        #expect(YAMLWriter(preservesScalarText: false).write(value) == "mode: 493\nflag: true\n")
    }

    @Test("kubectl's layout: sequences at their key's indent")
    func layout() throws {
        let value = try yaml("spec:\n  containers:\n    - name: web\n      ports: [{containerPort: 80}]\n")
        #expect(
            YAMLWriter().write(value)
                == "spec:\n  containers:\n  - name: web\n    ports:\n    - containerPort: 80\n"
        )
    }

    @Test("JSON escapes control characters and writes non-finite numbers as strings")
    func jsonEscapes() throws {
        let value: Value = ["s": "a\"b\\c\n\u{01}", "n": .double(.infinity)]
        #expect(JSONWriter().write(value) == #"{"s":"a\"b\\c\n\u0001","n":".inf"}"#)
    }
}
