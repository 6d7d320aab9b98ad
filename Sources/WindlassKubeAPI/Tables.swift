import WindlassCluster
import WindlassManifest

/// Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for (`as=Table`), with the
/// columns a Kubernetes API server prints for each kind, and a custom resource's from its
/// definition's `additionalPrinterColumns`.
enum Tables {
    static func table(
        _ objects: [Value], resource: APIResource, resourceVersion: String, continueToken: String?, includeObject: String?,
        responder: KubeAPIResponder
    ) async throws -> Value {
        build(objects, resource: resource, printerColumns: try await printerColumns(resource, responder: responder), now: responder.now(),
              resourceVersion: resourceVersion, continueToken: continueToken, includeObject: includeObject)
    }

    static func build(
        _ objects: [Value], resource: APIResource, printerColumns: [Value]?, now: Double, resourceVersion: String, continueToken: String?,
        includeObject: String?, withColumns: Bool = true
    ) -> Value {
        let columns = ObjectTable.columns(for: resource.groupKind, printerColumns: printerColumns)
        let rows: [Value] = objects.map { object in
            var row: Value = ["cells": .sequence(ObjectTable.cells(object, kind: resource.groupKind, columns: columns, printerColumns: printerColumns, now: now))]
            switch includeObject ?? "Metadata" {
            case "None": break
            case "Object": row.set(object, at: ["object"])
            default: row.set(partial(object), at: ["object"])
            }
            return row
        }
        var metadata: Value = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata.set(.string(continueToken), at: ["continue"]) }
        var table: Value = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata]
        if withColumns {
            table.set(.sequence(columns.map { column in
                [
                    "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                    "description": .string(column.description), "priority": .int(column.priority),
                ]
            }), at: ["columnDefinitions"])
        }
        table.set(.sequence(rows), at: ["rows"])
        return table
    }

    /// A custom resource's printer columns (nil for a built-in kind).
    static func printerColumns(_ resource: APIResource, responder: KubeAPIResponder) async throws -> [Value]? {
        guard RESTMapping.builtIn.resource(for: resource.groupKind) == nil else { return nil }
        let definition = try await responder.definitions().first {
            $0[path: ["spec", "group"]]?.stringValue == resource.group && $0[path: ["spec", "names", "kind"]]?.stringValue == resource.kind
        }
        let version = (definition?[path: ["spec", "versions"]]?.sequenceValue ?? []).first { $0["name"]?.stringValue == resource.version }
        return version?["additionalPrinterColumns"]?.sequenceValue
    }

    /// The `PartialObjectMetadata` of an object: its kind, version and metadata.
    static func partial(_ object: Value) -> Value {
        ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
    }
}

/// The cluster's recorded events as `core/v1` (or `events.k8s.io/v1`) Event objects.
enum EventObjects {
    static func object(_ event: ClusterEvent, index: Int, group: String) -> Value {
        let namespace = event.object.namespace ?? "default"
        let first = Timestamp.rfc3339(event.firstTime)
        let last = Timestamp.rfc3339(event.lastTime)
        let name = "\(event.object.name).\(String(UInt64(event.firstTime * 1_000_000), radix: 16))\(index)"
        let involved: Value = [
            "kind": .string(event.object.kind), "namespace": event.object.namespace.map { .string($0) } ?? .null, "name": .string(event.object.name),
            "apiVersion": .string(event.object.group.isEmpty ? (event.object.version.isEmpty ? "v1" : event.object.version) : "\(event.object.group)/\(event.object.version.isEmpty ? "v1" : event.object.version)"),
        ]
        let core: Value = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(first), "resourceVersion": "0"],
            "involvedObject": involved, "reason": .string(event.reason), "message": .string(event.message), "type": .string(event.kind.rawValue),
            "count": .int(event.count), "firstTimestamp": .string(first), "lastTimestamp": .string(last),
            "source": ["component": "windlass"], "reportingComponent": "windlass", "reportingInstance": "",
        ]
        return group.isEmpty ? core : converted(core)
    }

    /// A core/v1 Event as `events.k8s.io/v1` writes it.
    static func converted(_ event: Value) -> Value {
        var out: Value = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": event["metadata"] ?? [:],
            "regarding": event["involvedObject"] ?? .null, "reason": event["reason"] ?? .null, "note": event["message"] ?? .null,
            "type": event["type"] ?? .null, "reportingController": event[path: ["source", "component"]] ?? "windlass",
            "reportingInstance": event["reportingInstance"] ?? "",
        ]
        if let time = event["lastTimestamp"] { out.set(time, at: ["deprecatedLastTimestamp"]) }
        if let time = event["firstTimestamp"] { out.set(time, at: ["deprecatedFirstTimestamp"]) }
        if let count = event["count"] { out.set(count, at: ["deprecatedCount"]) }
        return out
    }
}

/// Strict field validation: the fields a kind's schema does not declare.
enum FieldCheck {
    static func unknownFields(_ object: Value, resource: APIResource, crds: [Value]) -> [String] {
        let gvk = resource.groupVersionKind
        if KubernetesOpenAPI.schemaNames[gvk] != nil {
            return SchemaTable.unknownFields(in: object, kind: gvk) ?? []
        }
        let definition = crds.first { $0[path: ["spec", "group"]]?.stringValue == resource.group && $0[path: ["spec", "names", "kind"]]?.stringValue == resource.kind }
        guard let version = (definition?[path: ["spec", "versions"]]?.sequenceValue ?? []).first(where: { $0["name"]?.stringValue == resource.version }),
            let schema = version[path: ["schema", "openAPIV3Schema"]]
        else { return [] }
        return SchemaTable.unknownFields(in: object, kind: gvk, customSchema: schema) ?? []
    }
}
