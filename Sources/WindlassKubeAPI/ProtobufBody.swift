import Foundation
import WindlassManifest

/// Reads the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) that typed
/// clients send, kubectl's among them (`create configmap`, `auth can-i`, `drain`): the
/// `k8s\0` envelope around a `runtime.Unknown`, whose type names the message of its raw bytes.
/// Decoded into the object's JSON form, from the field tables of ``ProtobufSchemas``.
///
/// The wire does not tell a field left unset from one set to its zero value; empty strings
/// and zero times are dropped (the JSON encoding omits them), other zero values are kept.
enum ProtobufBody {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ bytes: [UInt8]) throws -> Value {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw Failure(description: "the protobuf body lacks the k8s envelope") }
        var reader = Reader(data: bytes, position: 4, end: bytes.count)
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        while let (number, wire) = try reader.tag() {
            switch (number, wire) {
            case (1, 2):
                var meta = try reader.nested()
                while let (field, fieldWire) = try meta.tag() {
                    if fieldWire == 2, field == 1 { apiVersion = try meta.string() } else if fieldWire == 2, field == 2 { kind = try meta.string() } else { try meta.skip(fieldWire) }
                }
            case (2, 2): raw = try reader.bytes()
            default: try reader.skip(wire)
            }
        }
        guard let message = messageName(apiVersion: apiVersion, kind: kind), ProtobufSchemas.messages[message] != nil else {
            throw Failure(description: "no protobuf schema for \(apiVersion.isEmpty ? "?" : apiVersion) \(kind.isEmpty ? "?" : kind)")
        }
        var object = try decodeMessage(Array(raw), message: message)
        object.set(.string(apiVersion), at: ["apiVersion"])
        object.set(.string(kind), at: ["kind"])
        return object
    }

    /// `k8s.io.api.apps.v1.Deployment` for `apps/v1 Deployment`.
    static func messageName(apiVersion: String, kind: String) -> String? {
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "")
        let directory: String
        switch group {
        case "": directory = "core"
        case "rbac.authorization.k8s.io": directory = "rbac"
        case "flowcontrol.apiserver.k8s.io": directory = "flowcontrol"
        default: directory = String(group.split(separator: ".").first ?? "")
        }
        guard !directory.isEmpty, !version.isEmpty, !kind.isEmpty else { return nil }
        return "k8s.io.api.\(directory).\(version).\(kind)"
    }

    static func decodeMessage(_ bytes: [UInt8], message: String) throws -> Value {
        var reader = Reader(data: bytes, position: 0, end: bytes.count)
        return try decode(&reader, message: message)
    }

    private static func decode(_ reader: inout Reader, message: String) throws -> Value {
        guard let fields = ProtobufSchemas.messages[message] else { throw Failure(description: "unknown protobuf message \(message)") }
        switch message {
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Time", "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
            var seconds = 0
            var nanos = 0
            while let (number, wire) = try reader.tag() {
                if number == 1, wire == 0 { seconds = Int(truncatingIfNeeded: try reader.varint()) } else if number == 2, wire == 0 { nanos = Int(truncatingIfNeeded: try reader.varint()) } else { try reader.skip(wire) }
            }
            if seconds == 0 && nanos == 0 { return .null }
            let micro = message.hasSuffix("MicroTime")
            return .string(micro ? Timestamp.rfc3339Micro(Double(seconds) + Double(nanos) / 1e9) : Timestamp.rfc3339(Double(seconds)))
        case "k8s.io.apimachinery.pkg.api.resource.Quantity":
            var text = ""
            while let (number, wire) = try reader.tag() {
                if number == 1, wire == 2 { text = try reader.string() } else { try reader.skip(wire) }
            }
            return .string(text)
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
            var type = 0
            var int = 0
            var string = ""
            while let (number, wire) = try reader.tag() {
                switch (number, wire) {
                case (1, 0): type = Int(truncatingIfNeeded: try reader.varint())
                case (2, 0): int = Int(Int32(truncatingIfNeeded: try reader.varint()))
                case (3, 2): string = try reader.string()
                default: try reader.skip(wire)
                }
            }
            return type == 1 ? .string(string) : .int(int)
        case "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
            var raw: ArraySlice<UInt8> = []
            while let (number, wire) = try reader.tag() {
                if number == 1, wire == 2 { raw = try reader.bytes() } else { try reader.skip(wire) }
            }
            if raw.isEmpty { return .null }
            return (try? JSONReader.read(String(decoding: raw, as: UTF8.self))) ?? .null
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
            var nanoseconds = 0
            while let (number, wire) = try reader.tag() {
                if number == 1, wire == 0 { nanoseconds = Int(truncatingIfNeeded: try reader.varint()) } else { try reader.skip(wire) }
            }
            return .string(goDuration(nanoseconds))
        default:
            break
        }
        // A wrapper of a string list (`ExtraValue`, `Verbs`) is the list itself in JSON.
        if fields.count == 1, let only = fields[1], only.name == "items", only.label == .repeated, only.type == "string" {
            var items: [Value] = []
            while let (number, wire) = try reader.tag() {
                if number == 1, wire == 2 { items.append(.string(try reader.string())) } else { try reader.skip(wire) }
            }
            return .sequence(items)
        }
        var entries: [(Int, String, Value)] = []
        var lists: [String: [Value]] = [:]
        var maps: [String: Mapping] = [:]
        var order: [String] = []
        while let (number, wire) = try reader.tag() {
            guard let field = fields[number] else {
                try reader.skip(wire)
                continue
            }
            if !order.contains(field.name) { order.append(field.name) }
            switch field.label {
            case .map:
                var entry = try reader.nested()
                var key = Value.null
                var value = Value.null
                while let (entryNumber, entryWire) = try entry.tag() {
                    switch entryNumber {
                    case 1: key = try scalar(&entry, type: field.type, wire: entryWire)
                    case 2: value = try element(&entry, type: field.valueType ?? "string", wire: entryWire)
                    default: try entry.skip(entryWire)
                    }
                }
                let keyText = Self.text(key)
                var map = maps[field.name] ?? Mapping()
                map[keyText] = value.isNull && (field.valueType == "string") ? .string("") : value
                maps[field.name] = map
            case .repeated:
                var items = lists[field.name] ?? []
                if wire == 2, Self.packable(field.type) {
                    var packed = try reader.nested()
                    while !packed.atEnd {
                        let item = try scalar(&packed, type: field.type, wire: Self.wireType(field.type))
                        items.append(item)
                    }
                } else {
                    let item = try element(&reader, type: field.type, wire: wire)
                    items.append(item)
                }
                lists[field.name] = items
            case .optional:
                let value = try element(&reader, type: field.type, wire: wire)
                entries.removeAll { $0.1 == field.name }
                entries.append((number, field.name, value))
            }
        }
        // An object's generation is the server's to set; a client's zero means unset.
        if message == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
            entries.removeAll { entry in entry.1 == "generation" && Self.isZero(entry.2) }
        }
        var out = Mapping()
        for name in order {
            if let list = lists[name] {
                out[name] = .sequence(list)
            } else if let map = maps[name] {
                out[name] = .mapping(map)
            } else if let entry = entries.first(where: { $0.1 == name }) {
                let value = entry.2
                if value.isNull { continue }
                if value.stringValue == "" { continue }
                out[name] = value
            }
        }
        return .mapping(out)
    }

    private static func element(_ reader: inout Reader, type: String, wire: Int) throws -> Value {
        if ProtobufSchemas.scalarTypes.contains(type) { return try scalar(&reader, type: type, wire: wire) }
        guard wire == 2 else { throw Failure(description: "a \(type) field is not length-delimited") }
        var nested = try reader.nested()
        return try decode(&nested, message: type)
    }

    private static func scalar(_ reader: inout Reader, type: String, wire: Int) throws -> Value {
        switch type {
        case "string": return .string(try reader.string())
        case "bytes": return .string(Data(try reader.bytes()).base64EncodedString())
        case "bool": return .bool(try reader.varint() != 0)
        case "int32": return .int(Int(Int32(truncatingIfNeeded: try reader.varint())))
        case "int64", "uint64", "uint32": return .int(Int(truncatingIfNeeded: try reader.varint()))
        case "double":
            let bits = try reader.fixed(8)
            return .double(Double(bitPattern: bits))
        case "float":
            let bits = try reader.fixed(4)
            return .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
        default:
            try reader.skip(wire)
            return .null
        }
    }

    static func isZero(_ value: Value) -> Bool {
        if case .int(let number) = value.content { return number == 0 }
        return false
    }

    /// A map key as JSON names it.
    static func text(_ key: Value) -> String {
        switch key.content {
        case .string(let string): return string
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return ""
        }
    }

    static func packable(_ type: String) -> Bool { ["bool", "int32", "int64", "uint32", "uint64", "double", "float"].contains(type) }

    static func wireType(_ type: String) -> Int {
        switch type {
        case "double": return 1
        case "float": return 5
        default: return 0
        }
    }

    /// A Go `time.Duration` as Go prints it: `1h2m3s`, `1.5s`, `0s`.
    static func goDuration(_ nanoseconds: Int) -> String {
        if nanoseconds == 0 { return "0s" }
        var rest = abs(nanoseconds)
        let hours = rest / 3_600_000_000_000
        rest %= 3_600_000_000_000
        let minutes = rest / 60_000_000_000
        rest %= 60_000_000_000
        let seconds = Double(rest) / 1e9
        var text = nanoseconds < 0 ? "-" : ""
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        let secondsText = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return text + secondsText + "s"
    }

    /// A cursor over protobuf bytes.
    struct Reader {
        let data: [UInt8]
        var position: Int
        let end: Int

        var atEnd: Bool { position >= end }

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end, shift < 64 else { throw Failure(description: "a truncated protobuf varint") }
                let byte = data[position]
                position += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }

        mutating func tag() throws -> (Int, Int)? {
            guard position < end else { return nil }
            let key = try varint()
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func bytes() throws -> ArraySlice<UInt8> {
            let length = Int(try varint())
            guard length >= 0, position + length <= end else { throw Failure(description: "a protobuf field runs past the body") }
            defer { position += length }
            return data[position..<(position + length)]
        }

        mutating func string() throws -> String { String(decoding: try bytes(), as: UTF8.self) }

        mutating func nested() throws -> Reader {
            let length = Int(try varint())
            guard length >= 0, position + length <= end else { throw Failure(description: "a protobuf message runs past the body") }
            defer { position += length }
            return Reader(data: data, position: position, end: position + length)
        }

        mutating func fixed(_ size: Int) throws -> UInt64 {
            guard position + size <= end else { throw Failure(description: "a truncated protobuf number") }
            var value: UInt64 = 0
            for offset in 0..<size { value |= UInt64(data[position + offset]) << (8 * UInt64(offset)) }
            position += size
            return value
        }

        mutating func skip(_ wire: Int) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: _ = try fixed(8)
            case 2: _ = try bytes()
            case 5: _ = try fixed(4)
            default: throw Failure(description: "an unsupported protobuf wire type \(wire)")
            }
        }
    }
}

/// The message table of ``protobufSchemaTable``, parsed on first use.
enum ProtobufSchemas {
    enum Label { case optional, repeated, map }

    struct Field {
        var name: String
        var label: Label
        var type: String
        var valueType: String?
    }

    static let scalarTypes: Set<String> = ["string", "bool", "int32", "int64", "uint32", "uint64", "bytes", "double", "float", "sint32", "sint64", "fixed32", "fixed64"]

    static let messages: [String: [Int: Field]] = {
        var out: [String: [Int: Field]] = [:]
        var current = ""
        for line in protobufSchemaTable.split(separator: "\n") {
            if line.hasPrefix("MESSAGE ") {
                current = String(line.dropFirst(8))
                out[current] = [:]
                continue
            }
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count >= 4, let number = Int(parts[0]) else { continue }
            let label: Label = parts[2] == "r" ? .repeated : parts[2] == "m" ? .map : .optional
            out[current]?[number] = Field(name: parts[1], label: label, type: parts[3], valueType: parts.count > 4 ? parts[4] : nil)
        }
        return out
    }()
}
