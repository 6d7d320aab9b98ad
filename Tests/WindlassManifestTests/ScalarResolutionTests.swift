import Testing
import WindlassTesting
import WindlassManifest

@Suite("Scalars are read as kubectl reads them")
struct ScalarResolutionTests {
    static let plain: [(String, Value)] = [
        ("true", true), ("True", true), ("TRUE", true), ("yes", true), ("Yes", true), ("YES", true),
        ("y", true), ("Y", true), ("on", true), ("On", true), ("ON", true),
        ("false", false), ("no", false), ("No", false), ("n", false), ("N", false), ("off", false), ("OFF", false),
        ("~", nil), ("null", nil), ("Null", nil), ("NULL", nil), ("", nil),
        ("0", 0), ("42", 42), ("-17", -17), ("+5", 5), ("0755", 493), ("0x1F", 31), ("0o17", 15), ("0b101", 5),
        ("1_000", 1000), ("9223372036854775807", 9_223_372_036_854_775_807),
        ("1.5", 1.5), ("1.0", 1.0), ("-0.25", -0.25), (".5", 0.5), ("1e3", 1000.0), ("1.", 1.0), ("08", 8.0),
        (".inf", .double(.infinity)), ("-.Inf", .double(-.infinity)), ("+.INF", .double(.infinity)),
        ("2024-01-15", "2024-01-15"), ("yess", "yess"), ("nginx:1.25", "nginx:1.25"), ("1.2.3", "1.2.3"),
        ("0x", "0x"), ("-x", "-x"), ("1e", "1e"), ("tRue", "tRue"), ("500m", "500m"), ("1Gi", "1Gi"),
    ]

    @Test("plain scalars resolve with YAML 1.1 rules", arguments: plain)
    func plainScalar(text: String, expected: Value) throws {
        let value = try yaml("k: \(text)\n")["k"]
        #expect(value == expected, "\(text)")
    }

    @Test("NaN is read as NaN")
    func nan() throws {
        #expect(try yaml("k: .nan\n")["k"]?.doubleValue?.isNaN == true)
    }

    @Test("quoted scalars are always strings", arguments: ["'yes'", "\"123\"", "'~'", "\"0755\"", "'1.5'"])
    func quoted(text: String) throws {
        let value = try #require(try yaml("k: \(text)\n")["k"])
        #expect(value.stringValue == String(text.dropFirst().dropLast()))
    }

    @Test("tags override resolution")
    func tags() throws {
        let value = try yaml("a: !!str 123\nb: !!int '12'\nc: !!float 3\nd: !!bool yes\ne: !custom 7\n")
        #expect(value["a"] == "123")
        #expect(value["b"] == 12)
        #expect(value["c"] == 3.0)
        #expect(value["d"] == true)
        #expect(value["e"] == "7")
    }

    @Test("the original text of a scalar is kept when it differs from the value's own spelling")
    func originalText() throws {
        let value = try yaml("mode: 0755\nflag: yes\nport: 8080\nname: web\nratio: 1.0\n")
        #expect(value["mode"]?.scalarText == "0755")
        #expect(value["flag"]?.scalarText == "yes")
        #expect(value["port"]?.scalarText == nil)
        #expect(value["name"]?.scalarText == nil)
        #expect(value["ratio"]?.scalarText == "1.0")
    }

    @Test("keys are strings, as sigs.k8s.io/yaml makes them")
    func keys() throws {
        let value = try yaml("1: a\ntrue: b\nnull: c\n")
        #expect(value.mappingValue?.keys == ["1", "true", "null"])
    }
}
