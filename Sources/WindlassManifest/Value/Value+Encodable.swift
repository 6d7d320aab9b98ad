/// A value encodes as the JSON it is: mappings as objects (keys as written), sequences as
/// arrays, scalars as themselves; a scalar's written text (`0755`) is not kept.
extension Value: Encodable {
    public func encode(to encoder: any Encoder) throws {
        switch content {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let bool):
            var container = encoder.singleValueContainer()
            try container.encode(bool)
        case .int(let int):
            var container = encoder.singleValueContainer()
            try container.encode(int)
        case .double(let double):
            var container = encoder.singleValueContainer()
            try container.encode(double)
        case .string(let string):
            var container = encoder.singleValueContainer()
            try container.encode(string)
        case .sequence(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .mapping(let mapping):
            var container = encoder.container(keyedBy: MappingKey.self)
            for entry in mapping.entries { try container.encode(entry.value, forKey: MappingKey(stringValue: entry.key)) }
        }
    }

    private struct MappingKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
