public import WindlassManifest

/// Kyverno's validate patterns (REFERENCE.md §9), matched against a resource.
///
/// - A mapping matches when every key does. Keys may carry anchors: `(key)` is a condition (when
///   the resource's value there does not match, the whole mapping is skipped, not failed),
///   `=(key)` is optional (checked only when present), `X(key)` must be absent, `^(key)` needs at
///   least one list item to match.
/// - A list pattern's item must match every item of the resource's list (an item skipped by a
///   condition anchor passes).
/// - A string pattern matches scalars: `*` and `?` wildcards, `!` negation, `>`, `>=`, `<`, `<=`
///   on numbers and quantities (`<=1Gi`), `|` between alternatives and `&` between terms that
///   must all hold (`&` binds tighter). `*` alone matches any value that is there and `?*` any
///   that is not empty, mappings and lists included. Numbers and booleans in a pattern compare
///   by value.
/// - A field the pattern names must be present (use `=(key)` for optional ones).
public enum Pattern {
    public enum Outcome: Sendable, Hashable {
        case pass
        /// A condition anchor did not hold: the rule does not apply here.
        case skip
        /// The first path that did not match, as `spec.containers[0].image`, and why.
        case fail(path: String, reason: String)
    }

    public static func match(_ value: Value?, _ pattern: Value) -> Outcome {
        var trail = Trail()
        return match(value, pattern, &trail)
    }

    enum Anchor {
        case plain, condition, equality, negation, existence, add
    }

    static func anchor(of key: String) -> (Anchor, String) {
        // Most keys are plain: look at the first byte before anything else.
        guard let first = key.utf8.first, first == UInt8(ascii: "(") || first == UInt8(ascii: "=") || first == UInt8(ascii: "X")
            || first == UInt8(ascii: "^") || first == UInt8(ascii: "+"), key.utf8.last == UInt8(ascii: ")")
        else { return (.plain, key) }
        func inner(_ prefix: String) -> String? {
            guard key.hasPrefix(prefix), key.count > prefix.count + 1 else { return nil }
            return String(key.dropFirst(prefix.count).dropLast())
        }
        if let name = inner("=(") { return (.equality, name) }
        if let name = inner("X(") { return (.negation, name) }
        if let name = inner("^(") { return (.existence, name) }
        if let name = inner("+(") { return (.add, name) }
        if let name = inner("(") { return (.condition, name) }
        return (.plain, key)
    }

    /// Where the matcher is, as members and indexes; rendered (`spec.containers[0].image`) only
    /// when something fails, so a passing match builds no strings.
    struct Trail {
        enum Step {
            case key(String)
            case index(Int)
        }

        var steps: [Step] = []

        var description: String {
            var out = ""
            for step in steps {
                switch step {
                case .key(let key): out += out.isEmpty ? key : "." + key
                case .index(let index): out += "[\(index)]"
                }
            }
            return out.isEmpty ? "." : out
        }

        mutating func fail(_ reason: String) -> Outcome { .fail(path: description, reason: reason) }
    }

    static func match(_ value: Value?, _ pattern: Value, _ trail: inout Trail) -> Outcome {
        let value = value?.isNull == true ? nil : value
        switch pattern.content {
        case .mapping(let mapping):
            guard let value, case .mapping = value.content else {
                return trail.fail(value == nil ? "is missing" : "is not a mapping")
            }
            // Conditions first: one that does not hold skips the whole mapping.
            var plainOnly = true
            for entry in mapping.entries {
                let (kind, name) = anchor(of: entry.key)
                guard kind != .plain else { continue }
                plainOnly = false
                guard kind == .condition else { continue }
                trail.steps.append(.key(name))
                let outcome = match(value[name], entry.value, &trail)
                trail.steps.removeLast()
                if outcome != .pass { return .skip }
            }
            for entry in mapping.entries {
                let (kind, name) = plainOnly ? (.plain, entry.key) : anchor(of: entry.key)
                let child = value[name]
                trail.steps.append(.key(name))
                defer { trail.steps.removeLast() }
                switch kind {
                case .condition, .add:
                    continue
                case .negation:
                    if child != nil && child?.isNull != true { return trail.fail("must not be set") }
                case .equality:
                    guard child != nil, child?.isNull != true else { continue }
                    let outcome = match(child, entry.value, &trail)
                    if case .fail = outcome { return outcome }
                case .existence:
                    guard let items = child?.sequenceValue, let itemPattern = entry.value.sequenceValue?.first else {
                        return trail.fail("must be a list with an item that matches")
                    }
                    var found = false
                    for (index, item) in items.enumerated() {
                        trail.steps.append(.index(index))
                        found = match(item, itemPattern, &trail) == .pass
                        trail.steps.removeLast()
                        if found { break }
                    }
                    if !found { return trail.fail("has no item that matches") }
                case .plain:
                    let outcome = match(child, entry.value, &trail)
                    switch outcome {
                    case .pass: continue
                    case .skip: return .skip
                    case .fail: return outcome
                    }
                }
            }
            return .pass
        case .sequence(let items):
            guard let value else { return trail.fail("is missing") }
            guard let actual = value.sequenceValue else { return trail.fail("is not a list") }
            guard let itemPattern = items.first else { return actual.isEmpty ? .pass : trail.fail("must be empty") }
            for (index, item) in actual.enumerated() {
                trail.steps.append(.index(index))
                let outcome = match(item, itemPattern, &trail)
                trail.steps.removeLast()
                if case .fail = outcome { return outcome }
            }
            return .pass
        case .null:
            return value == nil ? .pass : trail.fail("must not be set")
        case .string(let text):
            if scalar(value, text) { return .pass }
            guard let value else { return trail.fail("is missing") }
            return trail.fail("is \(display(value)), expected \(text)")
        default:
            guard let value else { return trail.fail("is missing") }
            if equal(value, pattern) { return .pass }
            return trail.fail("is \(display(value)), expected \(display(pattern))")
        }
    }

    /// A string pattern against a scalar: alternatives, terms, negation, comparisons, wildcards.
    static func scalar(_ value: Value?, _ pattern: String) -> Bool {
        // The common case, one plain term, without splitting.
        if !pattern.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "&") }) {
            return holds(value, pattern)
        }
        for alternative in pattern.split(separator: "|", omittingEmptySubsequences: false) {
            let terms = alternative.split(separator: "&", omittingEmptySubsequences: false)
            if terms.allSatisfy({ holds(value, $0.trimmingWhitespace()) }) { return true }
        }
        return false
    }

    static func holds(_ value: Value?, _ pattern: String) -> Bool {
        guard let first = pattern.utf8.first else { return value.flatMap(text(of:)) == "" }
        if first == UInt8(ascii: "!") {
            guard value != nil else { return true }
            return !holds(value, String(pattern.dropFirst()))
        }
        if first == UInt8(ascii: ">") || first == UInt8(ascii: "<") {
            let op = pattern.utf8.dropFirst().first == UInt8(ascii: "=") ? String(pattern.prefix(2)) : String(pattern.prefix(1))
            guard let value, let actual = Quantity(value), let bound = Quantity(parsing: pattern.dropFirst(op.count).trimmingWhitespace()) else { return false }
            switch op {
            case ">=": return actual >= bound
            case "<=": return actual <= bound
            case ">": return actual > bound
            default: return actual < bound
            }
        }
        guard let value else { return false }
        // `*` is any value that is there, `?*` any that is not empty, mappings and lists included.
        if pattern == "*" { return true }
        if pattern == "?*" {
            if let items = value.sequenceValue { return !items.isEmpty }
            if let mapping = value.mappingValue { return !mapping.entries.isEmpty }
        }
        guard let text = text(of: value) else { return false }
        if pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) {
            return Glob.matches(pattern, text)
        }
        if text == pattern { return true }
        // `1` matches `1.0`, `500m` matches `0.5`.
        if let a = Quantity(value), let b = Quantity(parsing: pattern) { return a == b }
        return false
    }

    static func equal(_ value: Value, _ pattern: Value) -> Bool {
        switch (value.content, pattern.content) {
        case (.bool(let a), .bool(let b)): return a == b
        case (.int, _), (.double, _):
            guard let a = value.doubleValue, let b = pattern.doubleValue else { return false }
            return a == b
        default: return value == pattern
        }
    }

    static func text(of value: Value) -> String? {
        switch value.content {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return value.scalarText ?? String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }

    static func display(_ value: Value) -> String {
        if let text = text(of: value) { return value.stringValue != nil ? "\"\(text)\"" : text }
        return JSONWriter().write(value)
    }
}

extension Pattern {
    /// The mistakes in a pattern that would make it mean something other than what was written:
    /// an anchor that is not closed, a comparison with no number or quantity after it.
    static func problems(in pattern: Value) -> [(SourceSpan, String)] {
        var out: [(SourceSpan, String)] = []
        switch pattern.content {
        case .mapping(let mapping):
            for entry in mapping.entries {
                let key = entry.key
                let opensAnchor = ["(", "=(", "X(", "^(", "+("].contains { key.hasPrefix($0) }
                if opensAnchor && anchor(of: key).0 == .plain {
                    out.append((entry.value.span, "the key \"\(key)\" opens an anchor but does not close it with \")\""))
                } else if !opensAnchor && key.hasSuffix(")") && key.contains("(") {
                    out.append((entry.value.span, "the key \"\(key)\" is not an anchor: use (key), =(key), X(key) or ^(key)"))
                }
                out += problems(in: entry.value)
            }
        case .sequence(let items):
            for item in items { out += problems(in: item) }
        case .string(let text):
            for term in text.split(whereSeparator: { $0 == "|" || $0 == "&" }) {
                var body = term.trimmingWhitespace()
                if body.hasPrefix("!") { body = String(body.dropFirst()) }
                guard let op = [">=", "<=", ">", "<"].first(where: { body.hasPrefix($0) }) else { continue }
                let bound = body.dropFirst(op.count).trimmingWhitespace()
                if Quantity(parsing: bound) == nil {
                    out.append((pattern.span, "\"\(term.trimmingWhitespace())\" compares with \"\(bound)\", which is not a number or quantity"))
                }
            }
        default:
            break
        }
        return out
    }
}
