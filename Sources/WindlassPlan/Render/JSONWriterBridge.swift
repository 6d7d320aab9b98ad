import WindlassManifest

/// Short names for the JSON pieces the renderers write by hand.
enum JSONWriterBridge {
    static func quote(_ text: String) -> String { JSONWriter.quote(text) }
    static func write(_ value: Value) -> String { JSONWriter().write(value) }
}
