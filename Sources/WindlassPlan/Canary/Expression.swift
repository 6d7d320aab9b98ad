/// The small, safe language of analysis conditions: `result[0] >= 0.99`, `len(result) == 0`,
/// `isNaN(result[0]) || result[0] < 0.5`, `result[0] * 100 > 95 && result[1] < 0.2`.
/// Parsed once, when the plan is made, so a mistake is a located error before anything is
/// applied; evaluated per measurement with `result` bound to the measured values. No loops, no
/// calls other than the built-ins below, no access to anything but `result`.
public struct Expression: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case result
        case index(Node, Node)
        case call(String, [Node])
        case unary(String, Node)
        case binary(String, Node, Node)
    }

    let root: Node
    public let source: String

    public var description: String { source }

    /// A mistake in an expression, with the 1-based column it was found at.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var column: Int
        public var message: String
        public var description: String { "column \(column): \(message)" }
    }

    /// Something an expression cannot compute from a measurement (an index past the end, a
    /// comparison of a list with a number).
    public struct EvaluationError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The built-in functions and how many arguments each takes.
    static let functions: [String: ClosedRange<Int>] = ["len": 1...1, "isNaN": 1...1, "abs": 1...1, "min": 1...8, "max": 1...8, "sum": 1...1]

    public init(parsing text: String) throws(ParseError) {
        var parser = Parser(text: text)
        root = try parser.parseExpression()
        try parser.expectEnd()
        source = text
    }

    /// A value during evaluation.
    public enum Value: Sendable, Hashable {
        case number(Double)
        case bool(Bool)
        case string(String)
        case list([Double])
    }

    /// Evaluates with `result` bound to `values`; the outcome must be a boolean.
    public func holds(for values: [Double]) throws(EvaluationError) -> Bool {
        switch try evaluate(root, values) {
        case .bool(let b): return b
        case let other: throw EvaluationError(message: "\(source) gives \(Self.describe(other)), not true or false")
        }
    }

    private func evaluate(_ node: Node, _ values: [Double]) throws(EvaluationError) -> Value {
        switch node {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .result: return .list(values)
        case .index(let base, let index):
            guard case .list(let items) = try evaluate(base, values) else { throw EvaluationError(message: "only result can be indexed") }
            guard case .number(let n) = try evaluate(index, values), n == n.rounded(), n >= 0 else {
                throw EvaluationError(message: "an index must be a whole number ≥ 0")
            }
            guard Int(n) < items.count else {
                throw EvaluationError(message: "result[\(Int(n))] does not exist: the measurement has \(items.count) value\(items.count == 1 ? "" : "s")")
            }
            return .number(items[Int(n)])
        case .call(let name, let arguments):
            let args = try arguments.map { (argument) throws(EvaluationError) -> Value in try evaluate(argument, values) }
            return try call(name, args)
        case .unary(let op, let operand):
            let value = try evaluate(operand, values)
            switch (op, value) {
            case ("-", .number(let n)): return .number(-n)
            case ("!", .bool(let b)): return .bool(!b)
            default: throw EvaluationError(message: "\(op) cannot apply to \(Self.describe(value))")
            }
        case .binary(let op, let lhs, let rhs):
            if op == "&&" || op == "||" {
                guard case .bool(let l) = try evaluate(lhs, values) else { throw EvaluationError(message: "\(op) needs true or false on its left") }
                if op == "&&" && !l { return .bool(false) }
                if op == "||" && l { return .bool(true) }
                guard case .bool(let r) = try evaluate(rhs, values) else { throw EvaluationError(message: "\(op) needs true or false on its right") }
                return .bool(r)
            }
            let l = try evaluate(lhs, values)
            let r = try evaluate(rhs, values)
            switch (l, r) {
            case (.number(let a), .number(let b)):
                switch op {
                case "+": return .number(a + b)
                case "-": return .number(a - b)
                case "*": return .number(a * b)
                case "/": return .number(a / b)
                case "==": return .bool(a == b)
                case "!=": return .bool(a != b)
                case "<": return .bool(a < b)
                case "<=": return .bool(a <= b)
                case ">": return .bool(a > b)
                case ">=": return .bool(a >= b)
                default: break
                }
            case (.string(let a), .string(let b)) where op == "==" || op == "!=":
                return .bool((a == b) == (op == "=="))
            case (.bool(let a), .bool(let b)) where op == "==" || op == "!=":
                return .bool((a == b) == (op == "=="))
            default:
                break
            }
            throw EvaluationError(message: "\(op) cannot compare \(Self.describe(l)) with \(Self.describe(r))")
        }
    }

    private func call(_ name: String, _ args: [Value]) throws(EvaluationError) -> Value {
        func numbers() throws(EvaluationError) -> [Double] {
            var out: [Double] = []
            for arg in args {
                switch arg {
                case .number(let n): out.append(n)
                case .list(let items): out += items
                default: throw EvaluationError(message: "\(name) takes numbers, not \(Self.describe(arg))")
                }
            }
            return out
        }
        switch name {
        case "len":
            guard case .list(let items) = args[0] else { throw EvaluationError(message: "len takes result") }
            return .number(Double(items.count))
        case "isNaN":
            guard case .number(let n) = args[0] else { throw EvaluationError(message: "isNaN takes a number") }
            return .bool(n.isNaN)
        case "abs":
            guard case .number(let n) = args[0] else { throw EvaluationError(message: "abs takes a number") }
            return .number(Swift.abs(n))
        case "sum":
            return .number(try numbers().reduce(0, +))
        case "min", "max":
            let all = try numbers()
            guard let first = all.first else { throw EvaluationError(message: "\(name) of nothing: the measurement is empty") }
            return .number(all.dropFirst().reduce(first) { name == "min" ? Swift.min($0, $1) : Swift.max($0, $1) })
        default:
            throw EvaluationError(message: "unknown function \(name)")
        }
    }

    static func describe(_ value: Value) -> String {
        switch value {
        case .number(let n): return "the number \(n)"
        case .bool(let b): return "\(b)"
        case .string(let s): return "the string \"\(s)\""
        case .list(let items): return "a list of \(items.count)"
        }
    }
}

/// Recursive descent with precedence: `||` < `&&` < comparisons < `+ -` < `* /` < unary < postfix.
private struct Parser {
    let characters: [Character]
    var position = 0

    init(text: String) {
        characters = Array(text)
    }

    typealias Node = Expression.Node
    typealias ParseError = Expression.ParseError

    mutating func parseExpression() throws(ParseError) -> Node {
        guard !characters.allSatisfy(\.isWhitespace) else { throw error("the expression is empty") }
        return try parseOr()
    }

    mutating func expectEnd() throws(ParseError) {
        skipSpace()
        if position < characters.count { throw error("unexpected \"\(characters[position])\"") }
    }

    private mutating func parseOr() throws(ParseError) -> Node {
        var lhs = try parseAnd()
        while take("||") { lhs = .binary("||", lhs, try parseAnd()) }
        return lhs
    }

    private mutating func parseAnd() throws(ParseError) -> Node {
        var lhs = try parseComparison()
        while take("&&") { lhs = .binary("&&", lhs, try parseComparison()) }
        return lhs
    }

    private mutating func parseComparison() throws(ParseError) -> Node {
        let lhs = try parseSum()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where take(op) {
            let rhs = try parseSum()
            for other in ["==", "!=", "<=", ">=", "<", ">"] where peek(other) {
                throw error("comparisons cannot be chained: use && between them")
            }
            return .binary(op, lhs, rhs)
        }
        if peek("=") { throw error("use == to compare") }
        return lhs
    }

    private mutating func parseSum() throws(ParseError) -> Node {
        var lhs = try parseProduct()
        while true {
            if take("+") { lhs = .binary("+", lhs, try parseProduct()) } else if take("-") { lhs = .binary("-", lhs, try parseProduct()) } else { return lhs }
        }
    }

    private mutating func parseProduct() throws(ParseError) -> Node {
        var lhs = try parseUnary()
        while true {
            if take("*") { lhs = .binary("*", lhs, try parseUnary()) } else if take("/") { lhs = .binary("/", lhs, try parseUnary()) } else { return lhs }
        }
    }

    private mutating func parseUnary() throws(ParseError) -> Node {
        if take("!") { return .unary("!", try parseUnary()) }
        if take("-") { return .unary("-", try parseUnary()) }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ParseError) -> Node {
        var node = try parsePrimary()
        while take("[") {
            let index = try parseOr()
            guard take("]") else { throw error("expected ] to close the index") }
            node = .index(node, index)
        }
        return node
    }

    private mutating func parsePrimary() throws(ParseError) -> Node {
        skipSpace()
        guard position < characters.count else { throw error("the expression ends too early") }
        let c = characters[position]
        if take("(") {
            let inner = try parseOr()
            guard take(")") else { throw error("expected ) to close the (") }
            return inner
        }
        if c.isNumber || c == "." {
            let start = position
            while position < characters.count, characters[position].isNumber || characters[position] == "." || characters[position] == "e"
                || (characters[position] == "-" && characters[position - 1] == "e")
            {
                position += 1
            }
            let text = String(characters[start..<position])
            guard let number = Double(text) else { throw error("\"\(text)\" is not a number", at: start) }
            return .number(number)
        }
        if c == "\"" || c == "'" {
            let start = position
            position += 1
            var text = ""
            while position < characters.count, characters[position] != c {
                text.append(characters[position])
                position += 1
            }
            guard position < characters.count else { throw error("this string is never closed", at: start) }
            position += 1
            return .string(text)
        }
        if c.isLetter || c == "_" {
            let start = position
            while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" {
                position += 1
            }
            let name = String(characters[start..<position])
            switch name {
            case "result": return .result
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "NaN": return .number(.nan)
            default: break
            }
            guard let arity = Expression.functions[name] else {
                throw error("unknown name \"\(name)\" (use result, true, false, or len, isNaN, abs, min, max, sum)", at: start)
            }
            guard take("(") else { throw error("\(name) is a function: call it as \(name)(…)", at: start) }
            var arguments: [Node] = []
            if !take(")") {
                repeat { arguments.append(try parseOr()) } while take(",")
                guard take(")") else { throw error("expected ) after the arguments of \(name)") }
            }
            guard arity.contains(arguments.count) else {
                throw error("\(name) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument\(arity.upperBound == 1 ? "" : "s"), not \(arguments.count)", at: start)
            }
            return .call(name, arguments)
        }
        throw error("unexpected \"\(c)\"")
    }

    private mutating func skipSpace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private mutating func peek(_ token: String) -> Bool {
        skipSpace()
        let end = position + token.count
        return end <= characters.count && String(characters[position..<end]) == token
    }

    private mutating func take(_ token: String) -> Bool {
        guard peek(token) else { return false }
        // `<` must not take the first half of `<=`, nor `=` of `==`, nor `|` of `||`.
        position += token.count
        return true
    }

    private func error(_ message: String, at column: Int? = nil) -> ParseError {
        ParseError(column: (column ?? position) + 1, message: message)
    }
}
