import WindlassCluster
import WindlassManifest

/// `/openapi/v2`, for the kubectl versions that still read it (1.27 validates and explains
/// with it): a Swagger 2.0 document of every served kind's schema and, per resource, the PATCH
/// operation with its `x-kubernetes-group-version-kind` and `fieldValidation` parameter (what
/// kubectl checks before leaving validation to the server). Served as JSON or in the protobuf
/// form of gnostic's OpenAPIv2 `Document` that kubectl asks for.
enum OpenAPIV2 {
    static func document(_ discovery: Discovery, crds: [Value]) -> Value {
        var definitions = Mapping()
        for entry in KubernetesOpenAPI.components.entries { definitions[entry.key] = convert(entry.value) }
        var paths = Mapping()
        for resource in discovery.resources {
            let gvk = resource.groupVersionKind
            let schemaName: String
            if let known = KubernetesOpenAPI.schemaNames[gvk] {
                schemaName = known
            } else {
                schemaName = OpenAPIDocuments.customName(gvk)
                definitions[schemaName] = convert(OpenAPIDocuments.customSchema(gvk, crds: crds))
            }
            guard resource.verbs.contains("patch") || resource.verbs.contains("get") else { continue }
            let prefix = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
            let path = prefix + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name + "/{name}"
            let extensionValue: Value = ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)]
            func parameter(_ name: String, type: String = "string") -> Value { ["name": .string(name), "in": "query", "type": .string(type), "uniqueItems": true] }
            let response: Value = ["200": ["description": "OK", "schema": ["$ref": .string("#/definitions/\(schemaName)")]]]
            var item = Mapping()
            if resource.verbs.contains("get") {
                item["get"] = ["operationId": .string("read\(resource.kind)"), "responses": response, "x-kubernetes-group-version-kind": extensionValue]
            }
            if resource.verbs.contains("patch") {
                item["patch"] = [
                    "operationId": .string("patch\(resource.kind)"),
                    "parameters": [parameter("dryRun"), parameter("fieldManager"), parameter("fieldValidation"), parameter("force", type: "boolean")],
                    "responses": response, "x-kubernetes-group-version-kind": extensionValue,
                ]
            }
            paths[path] = .mapping(item)
        }
        return [
            "swagger": "2.0", "info": ["title": "Kubernetes", "version": .string(Discovery.gitVersion)],
            "paths": .mapping(paths), "definitions": .mapping(definitions),
        ]
    }

    /// A schema in Swagger 2.0's terms: references under `#/definitions/`, int-or-string as
    /// `type: string, format: int-or-string`.
    static func convert(_ schema: Value) -> Value {
        switch schema.content {
        case .mapping(let mapping):
            var out = Mapping()
            for entry in mapping.entries {
                if entry.key == "$ref", let reference = entry.value.stringValue {
                    out["$ref"] = .string(reference.replacing("#/components/schemas/", with: "#/definitions/"))
                } else if entry.key == "x-kubernetes-int-or-string", entry.value.boolValue == true {
                    out["type"] = "string"
                    out["format"] = "int-or-string"
                } else if entry.key == "properties", let properties = entry.value.mappingValue {
                    var converted = Mapping()
                    for property in properties.entries { converted[property.key] = convert(property.value) }
                    out["properties"] = .mapping(converted)
                } else if ["items", "additionalProperties"].contains(entry.key) {
                    out[entry.key] = entry.value.boolValue != nil ? entry.value : convert(entry.value)
                } else if entry.key == "allOf", let items = entry.value.sequenceValue {
                    out["allOf"] = .sequence(items.map(convert))
                } else if ["oneOf", "anyOf", "nullable"].contains(entry.key) {
                    continue
                } else {
                    out[entry.key] = entry.value
                }
            }
            return .mapping(out)
        default:
            return schema
        }
    }

    // MARK: - Protobuf (gnostic openapi_v2.Document)

    static func protobuf(_ document: Value) -> [UInt8] {
        var out = ProtobufWriter()
        out.string(1, document["swagger"]?.stringValue ?? "2.0")
        out.message(2) { info in
            info.string(1, document[path: ["info", "title"]]?.stringValue ?? "")
            info.string(2, document[path: ["info", "version"]]?.stringValue ?? "")
        }
        out.message(8) { paths in
            for entry in document["paths"]?.mappingValue?.entries ?? [] {
                paths.message(2) { named in
                    named.string(1, entry.key)
                    named.message(2) { item in
                        for (method, number) in [("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("patch", 8)] {
                            guard let operation = entry.value[method] else { continue }
                            item.message(number) { writeOperation(operation, into: &$0) }
                        }
                    }
                }
            }
        }
        out.message(9) { definitions in
            for entry in document["definitions"]?.mappingValue?.entries ?? [] {
                definitions.message(1) { named in
                    named.string(1, entry.key)
                    named.message(2) { writeSchema(entry.value, into: &$0) }
                }
            }
        }
        return out.bytes
    }

    static func writeOperation(_ operation: Value, into out: inout ProtobufWriter) {
        if let id = operation["operationId"]?.stringValue { out.string(5, id) }
        for parameter in operation["parameters"]?.sequenceValue ?? [] {
            out.message(8) { item in
                item.message(1) { wrapper in
                    wrapper.message(2) { nonBody in
                        nonBody.message(3) { query in
                            query.string(2, parameter["in"]?.stringValue ?? "query")
                            query.string(4, parameter["name"]?.stringValue ?? "")
                            query.string(6, parameter["type"]?.stringValue ?? "string")
                            if parameter["uniqueItems"]?.boolValue == true { query.varint(20, 1) }
                        }
                    }
                }
            }
        }
        out.message(9) { responses in
            for entry in operation["responses"]?.mappingValue?.entries ?? [] {
                responses.message(1) { named in
                    named.string(1, entry.key)
                    named.message(2) { value in
                        value.message(1) { response in
                            response.string(1, entry.value["description"]?.stringValue ?? "")
                            if let schema = entry.value["schema"] {
                                response.message(2) { item in item.message(1) { writeSchema(schema, into: &$0) } }
                            }
                        }
                    }
                }
            }
        }
        writeExtensions(operation, number: 13, into: &out)
    }

    static func writeSchema(_ schema: Value, into out: inout ProtobufWriter) {
        guard let mapping = schema.mappingValue else { return }
        if let reference = mapping["$ref"]?.stringValue { out.string(1, reference) }
        if let format = mapping["format"]?.stringValue { out.string(2, format) }
        if let description = mapping["description"]?.stringValue { out.string(4, description) }
        for name in mapping["required"]?.sequenceValue ?? [] { out.string(19, name.stringValue ?? "") }
        for value in mapping["enum"]?.sequenceValue ?? [] {
            out.message(20) { any in any.string(2, JSONWriter().write(value)) }
        }
        if let additional = mapping["additionalProperties"] {
            out.message(21) { item in
                if let allowed = additional.boolValue { item.varint(2, allowed ? 1 : 0) } else { item.message(1) { writeSchema(additional, into: &$0) } }
            }
        }
        if let type = mapping["type"]?.stringValue { out.message(22) { $0.string(1, type) } }
        if let items = mapping["items"], items.mappingValue != nil {
            out.message(23) { list in list.message(1) { writeSchema(items, into: &$0) } }
        }
        for part in mapping["allOf"]?.sequenceValue ?? [] { out.message(24) { writeSchema(part, into: &$0) } }
        if let properties = mapping["properties"]?.mappingValue {
            out.message(25) { list in
                for property in properties.entries {
                    list.message(1) { named in
                        named.string(1, property.key)
                        named.message(2) { writeSchema(property.value, into: &$0) }
                    }
                }
            }
        }
        writeExtensions(schema, number: 31, into: &out)
    }

    /// `x-…` keys as gnostic's NamedAny, their values as YAML (JSON is YAML).
    static func writeExtensions(_ value: Value, number: Int, into out: inout ProtobufWriter) {
        for entry in value.mappingValue?.entries ?? [] where entry.key.hasPrefix("x-") {
            out.message(number) { named in
                named.string(1, entry.key)
                named.message(2) { any in any.string(2, JSONWriter().write(entry.value)) }
            }
        }
    }
}

/// Writes protobuf fields.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ number: Int, _ value: UInt64) {
        rawVarint(UInt64(number << 3))
        rawVarint(value)
    }

    mutating func string(_ number: Int, _ text: String) {
        rawVarint(UInt64(number << 3 | 2))
        let utf8 = Array(text.utf8)
        rawVarint(UInt64(utf8.count))
        bytes += utf8
    }

    mutating func message(_ number: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        rawVarint(UInt64(number << 3 | 2))
        rawVarint(UInt64(nested.bytes.count))
        bytes += nested.bytes
    }
}
