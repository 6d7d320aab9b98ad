internal import CYAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One document of a YAML stream.
public struct YAMLDocument: Sendable {
    /// The document's root node; `null` for an empty document.
    public var root: Value
    /// From the document's first to its last mark.
    public var span: SourceSpan
    /// 0-based position of the document in its stream.
    public var index: Int
}

/// Reads YAML (and JSON, which goes through the same parser) into ``Value`` trees, driven by
/// libyaml's events with no intermediate tree.
public enum YAMLReader {
    /// Reads every document of a stream.
    public static func read(
        _ bytes: [UInt8],
        file: FileID = .synthesized,
        limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        do {
            return try bytes.withUnsafeBufferPointer { buffer in
                try read(buffer, file: file, limits: limits)
            }
        } catch let error as YAMLError {
            throw error
        } catch {
            throw YAMLError("\(error)", file: file, position: .unknown)
        }
    }

    /// Reads every document of a stream held in a string.
    public static func read(
        _ text: String,
        file: FileID = .synthesized,
        limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        try read(Array(text.utf8), file: file, limits: limits)
    }

    /// Reads every document of a stream from memory the caller keeps alive for the call.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>,
        file: FileID = .synthesized,
        limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        try checkEncoding(bytes, file: file)
        var builder = TreeBuilder(file: file, limits: limits)
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer {
            parser.deallocate()
            event.deallocate()
        }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError("cannot initialize the YAML parser", file: file, position: .unknown)
        }
        defer { yaml_parser_delete(parser) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return [] }
        yaml_parser_set_input_string(parser, base, bytes.count)
        while true {
            guard yaml_parser_parse(parser, event) == 1 else {
                throw parserError(parser.pointee, bytes: bytes, file: file)
            }
            let done = event.pointee.type == YAML_STREAM_END_EVENT
            do throws(YAMLError) {
                try builder.handle(event.pointee)
            } catch {
                yaml_event_delete(event)
                throw error
            }
            yaml_event_delete(event)
            if done { break }
        }
        return builder.documents
    }

    /// Rejects what libyaml would accept but Kubernetes never reads: UTF-16 and UTF-32 streams,
    /// and NUL bytes, with a message that says so.
    private static func checkEncoding(_ bytes: UnsafeBufferPointer<UInt8>, file: FileID) throws(YAMLError) {
        let start = SourcePosition(line: 1, column: 1)
        if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) {
            throw YAMLError(
                "the file starts with a UTF-16 byte order mark; manifests must be UTF-8",
                file: file,
                position: start
            )
        }
        if bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0xFE, bytes[3] == 0xFF {
            throw YAMLError(
                "the file starts with a UTF-32 byte order mark; manifests must be UTF-8",
                file: file,
                position: start
            )
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // A byte order mark is allowed first only: libyaml would take a later one as part of a
        // scalar, a value that differs from what the file shows.
        let skip = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var from = skip
        while from < bytes.count, let lead = memchr(base + from, 0xEF, bytes.count - from) {
            let offset = UnsafeRawPointer(lead) - UnsafeRawPointer(base)
            if offset + 2 < bytes.count, bytes[offset + 1] == 0xBB, bytes[offset + 2] == 0xBF {
                throw YAMLError(
                    "byte order mark (U+FEFF) in the middle of the file; remove it",
                    file: file,
                    position: position(ofOffset: offset, in: bytes)
                )
            }
            from = offset + 1
        }
        guard let nul = memchr(base, 0, bytes.count) else { return }
        let offset = UnsafeRawPointer(nul) - UnsafeRawPointer(base)
        throw YAMLError(
            "NUL byte (0x00) is not allowed in a manifest",
            file: file,
            position: position(ofOffset: offset, in: bytes)
        )
    }

    /// The line and column (in characters) of a byte offset.
    static func position(ofOffset offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        var line: UInt32 = 1
        var column: UInt32 = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourcePosition(line: line, column: column)
    }

    /// "while parsing a flow mapping" → "flow mapping".
    private static func construct(_ context: String) -> String {
        for prefix in ["while scanning a ", "while scanning an ", "while parsing a ", "while parsing an "]
        where context.hasPrefix(prefix) {
            return String(context.dropFirst(prefix.count))
        }
        return context
    }

    private static func hasByteOrderMark(near offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = max(0, offset - 3)
        let end = min(bytes.count, offset + 3)
        guard end - start >= 3 else { return false }
        for i in start...(end - 3) where bytes[i] == 0xEF && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF {
            return true
        }
        return false
    }

    private static func parserError(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, file: FileID)
        -> YAMLError
    {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        let context = parser.context.map { String(cString: $0) }
        func mark(_ m: yaml_mark_t) -> SourcePosition {
            SourcePosition(line: UInt32(m.line) + 1, column: UInt32(m.column) + 1)
        }
        switch parser.error {
        case YAML_READER_ERROR:
            var message = problem
            if parser.problem_value != -1, problem.contains("UTF-8") {
                message += " (byte 0x\(String(UInt8(truncatingIfNeeded: parser.problem_value), radix: 16)))"
            }
            message += "; manifests must be valid UTF-8"
            return YAMLError(message, file: file, position: position(ofOffset: parser.problem_offset, in: bytes))
        case YAML_MEMORY_ERROR:
            return YAMLError("out of memory while parsing", file: file, position: .unknown)
        default:
            let problemAt = mark(parser.problem_mark)
            let offset = parser.problem_mark.index
            if problem.contains("cannot start any token"), offset < bytes.count, bytes[offset] == 0x09 {
                return YAMLError(
                    "tab character where YAML expects indentation or a value; indent with spaces",
                    file: file,
                    position: problemAt
                )
            }
            if Self.hasByteOrderMark(near: offset, in: bytes) {
                return YAMLError(
                    "byte order mark (U+FEFF) in the middle of the file; remove it",
                    file: file,
                    position: problemAt
                )
            }
            if let context {
                let contextAt = mark(parser.context_mark)
                // A key with no `:` is found on a later line; point at the key.
                if problem.contains("could not find expected ':'") {
                    return YAMLError(
                        "could not find expected ':' after this key (\(context))",
                        file: file,
                        position: contextAt
                    )
                }
                // An unclosed quote or bracket is found at the end of the file; point at its start.
                if problem.contains("end of stream") || problem.contains("end of the stream")
                    || offset >= bytes.count
                {
                    return YAMLError(
                        "this \(Self.construct(context)) is never closed (\(problem) at \(problemAt))",
                        file: file,
                        position: contextAt
                    )
                }
                return YAMLError("\(problem) (\(context) at \(contextAt))", file: file, position: problemAt)
            }
            return YAMLError(problem, file: file, position: problemAt)
        }
    }
}

/// Turns libyaml events into values, one frame per open collection.
private struct TreeBuilder {
    struct Frame {
        var isMapping: Bool
        var start: SourcePosition
        var anchor: String?
        var items: [Value] = []
        var entries: [Mapping.Entry] = []
        /// Filled once a mapping grows past the size where a linear duplicate check stays cheap.
        var keySet: Set<String>? = nil
        var pendingKey: String? = nil
        var pendingKeySpan = SourceSpan.synthesized
        var pendingIsMerge = false
        var merges: [Mapping] = []
        /// Nodes in this collection, itself included, counting alias expansions.
        var nodeCount = 1
    }

    let file: FileID
    let limits: YAMLLimits
    var documents: [YAMLDocument] = []
    var stack: [Frame] = []
    var anchors: [String: (value: Value, count: Int)] = [:]
    var aliasExpansion = 0
    var root: Value? = nil
    var documentStart = SourcePosition.unknown
    /// Byte offset of the current document's start.
    var documentStartIndex = 0

    init(file: FileID, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
        stack.reserveCapacity(16)
    }

    @inline(__always)
    func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: UInt32(truncatingIfNeeded: mark.line &+ 1), column: UInt32(truncatingIfNeeded: mark.column &+ 1))
    }

    func error(_ message: String, at position: SourcePosition) -> YAMLError {
        YAMLError(message, file: file, position: position)
    }

    mutating func handle(_ event: yaml_event_t) throws(YAMLError) {
        // A scalar too large says so first (its own bound is the more precise message).
        if event.type != YAML_SCALAR_EVENT { try checkDocumentSize(event) }
        switch event.type {
        case YAML_SCALAR_EVENT:
            try scalar(event)
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            let start = position(event.start_mark)
            guard stack.count < limits.maxDepth else {
                throw error("nesting is deeper than \(limits.maxDepth) levels", at: start)
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let anchorPointer = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
            if let tagPointer = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag {
                let tag = ScalarResolver.Tag(String(cString: tagPointer))
                if isMapping ? (tag == .sequence) : (tag == .mapping) {
                    throw error("tag \(tag.shortName) does not fit a \(isMapping ? "mapping" : "sequence")", at: start)
                }
            }
            stack.append(Frame(isMapping: isMapping, start: start, anchor: anchorPointer.map { String(cString: $0) }))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            let frame = stack.removeLast()
            let span = SourceSpan(file: file, start: frame.start)
            let value: Value
            if frame.isMapping {
                var entries = frame.entries
                if !frame.merges.isEmpty {
                    entries = merged(entries, with: frame.merges)
                }
                value = Value(.mapping(Mapping(entries)), span: span)
            } else {
                value = Value(.sequence(frame.items), span: span)
            }
            if let anchor = frame.anchor {
                anchors[anchor] = (value, frame.nodeCount)
            }
            try add(value, count: frame.nodeCount)
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            let at = position(event.start_mark)
            guard let (value, count) = anchors[name] else {
                throw error("alias *\(name) refers to no anchor defined before it", at: at)
            }
            aliasExpansion += count
            guard aliasExpansion <= limits.maxAliasExpansion else {
                throw error(
                    "aliases expand to more than \(limits.maxAliasExpansion) nodes (an alias bomb?)",
                    at: at
                )
            }
            try add(value, count: count, isAlias: true, at: at)
        case YAML_DOCUMENT_START_EVENT:
            documentStart = position(event.start_mark)
            documentStartIndex = event.start_mark.index
            anchors.removeAll(keepingCapacity: true)
            aliasExpansion = 0
            root = nil
        case YAML_DOCUMENT_END_EVENT:
            let span = SourceSpan(file: file, start: documentStart)
            documents.append(YAMLDocument(root: root ?? Value(.null, span: span), span: span, index: documents.count))
            root = nil
        default:
            break
        }
    }

    /// A document that grew past the bound stops the read, located at the document's start.
    func checkDocumentSize(_ event: yaml_event_t) throws(YAMLError) {
        guard event.end_mark.index &- documentStartIndex > limits.maxDocumentBytes, event.type != YAML_STREAM_END_EVENT else { return }
        throw error(
            "document is larger than \(describeBytes(limits.maxDocumentBytes)) (a Kubernetes object is at most 1.5 MiB; split a List into files)",
            at: documentStart)
    }

    private mutating func scalar(_ event: yaml_event_t) throws(YAMLError) {
        let data = event.data.scalar
        let start = position(event.start_mark)
        guard data.length <= limits.maxScalarBytes else {
            throw error(
                "scalar of \(data.length) bytes is larger than the limit of \(describeBytes(limits.maxScalarBytes))",
                at: start
            )
        }
        try checkDocumentSize(event)
        let text = UnsafeBufferPointer(start: data.value, count: data.length)
        let span = SourceSpan(file: file, start: start)
        let isPlain = data.style == YAML_PLAIN_SCALAR_STYLE
        var content: Value.Content? = nil
        var keepsText = false
        var isMergeKey = false
        if let tagPointer = data.tag {
            let tag = ScalarResolver.Tag(String(cString: tagPointer))
            guard let resolved = ScalarResolver.resolveTagged(text, tag: tag) else {
                let written = String(decoding: text, as: UTF8.self)
                throw error("cannot read \(quoted(written)) as \(tag.shortName)", at: start)
            }
            content = resolved
            keepsText = resolved != nil
            isMergeKey = tag == .merge
        } else if isPlain {
            if let resolved = ScalarResolver.resolvePlain(text) {
                content = resolved.content
                keepsText = resolved.keepsText
            } else if data.length == 2, text[0] == UInt8(ascii: "<"), text[1] == UInt8(ascii: "<") {
                isMergeKey = true
            }
        }

        // A mapping key: keys are strings, as sigs.k8s.io/yaml makes them.
        let top = stack.count - 1
        if top >= 0, stack[top].isMapping, stack[top].pendingKey == nil {
            let key: String
            if let content {
                key = Self.keyString(content, text: String(decoding: text, as: UTF8.self))
            } else {
                key = String(decoding: text, as: UTF8.self)
            }
            try setKey(key, span: span, isMerge: isMergeKey)
            if let anchorPointer = data.anchor {
                anchors[String(cString: anchorPointer)] = (Value(.string(key), span: span), 1)
            }
            return
        }

        let value: Value
        if let content {
            value = Value(content, span: span, scalarText: keepsText ? String(decoding: text, as: UTF8.self) : nil)
        } else {
            value = Value(.string(String(decoding: text, as: UTF8.self)), span: span)
        }
        if let anchorPointer = data.anchor {
            anchors[String(cString: anchorPointer)] = (value, 1)
        }
        try add(value, count: 1)
    }

    private mutating func setKey(_ key: String, span: SourceSpan, isMerge: Bool) throws(YAMLError) {
        let top = stack.count - 1
        if isMerge {
            stack[top].pendingIsMerge = true
        } else if stack[top].keySet != nil {
            guard stack[top].keySet!.insert(key).inserted else {
                throw duplicateKey(key, at: span, in: stack[top])
            }
        } else {
            let length = key.utf8.count
            for entry in stack[top].entries where entry.key.utf8.count == length && entry.key == key {
                throw duplicateKey(key, at: span, in: stack[top])
            }
            if stack[top].entries.count >= 12 {
                stack[top].keySet = Set(stack[top].entries.map(\.key) + [key])
            }
        }
        stack[top].pendingKey = key
        stack[top].pendingKeySpan = span
        stack[top].nodeCount += 1
    }

    /// Keys are strings, as sigs.k8s.io/yaml makes them: `true`, `1`, `null`.
    static func keyString(_ content: Value.Content, text: String?) -> String {
        switch content {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .null: return "null"
        case .sequence, .mapping: return text ?? ""
        }
    }

    private func duplicateKey(_ key: String, at span: SourceSpan, in frame: Frame) -> YAMLError {
        let first = frame.entries.first { $0.key == key }?.keySpan.start
        let previous = first.map { " (first at \($0))" } ?? ""
        return error("duplicate key \(quoted(key))\(previous)", at: span.start)
    }

    /// Adds a finished node to the open collection, or makes it the document's root.
    private mutating func add(
        _ value: Value,
        count: Int,
        isAlias: Bool = false,
        at aliasPosition: SourcePosition = .unknown
    ) throws(YAMLError) {
        let top = stack.count - 1
        guard top >= 0 else {
            root = value
            return
        }
        stack[top].nodeCount += count
        if !stack[top].isMapping {
            stack[top].items.append(value)
            return
        }
        guard let key = stack[top].pendingKey else {
            let at = isAlias ? aliasPosition : value.span.start
            switch value.content {
            case .sequence:
                throw error("a mapping key must be a scalar, not a sequence", at: at)
            case .mapping:
                throw error("a mapping key must be a scalar, not a mapping", at: at)
            default:
                // An alias of a scalar used as a key.
                stack[top].nodeCount -= count
                try setKey(Self.keyString(value.content, text: value.scalarText), span: value.span, isMerge: false)
                return
            }
        }
        if stack[top].pendingIsMerge {
            stack[top].pendingIsMerge = false
            stack[top].pendingKey = nil
            switch value.content {
            case .mapping(let m):
                stack[top].merges.append(m)
            case .sequence(let items):
                for item in items {
                    guard case .mapping(let m) = item.content else {
                        throw error("the merge key << takes a mapping or a sequence of mappings", at: item.span.start)
                    }
                    stack[top].merges.append(m)
                }
            default:
                throw error("the merge key << takes a mapping or a sequence of mappings", at: value.span.start)
            }
            return
        }
        stack[top].entries.append(Mapping.Entry(key: key, keySpan: stack[top].pendingKeySpan, value: value))
        stack[top].pendingKey = nil
    }

    /// YAML merge keys: explicit entries win, then earlier merged mappings over later ones.
    private func merged(_ entries: [Mapping.Entry], with merges: [Mapping]) -> [Mapping.Entry] {
        var result = entries
        var seen = Set(entries.map(\.key))
        for mapping in merges {
            for entry in mapping.entries where seen.insert(entry.key).inserted {
                result.append(entry)
            }
        }
        return result
    }
}
