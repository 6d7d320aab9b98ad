
/// Kubernetes resource quantities (`500m`, `2`, `128Mi`, `1G`, `1e3`), compared by value.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value in thousandths (millicores for CPU, milli-bytes for memory), exact for the
    /// suffixes Kubernetes uses.
    public var milli: Int64

    public init(milli: Int64) {
        self.milli = milli
    }

    /// Parses a quantity from a string or a number; nil when it is not one.
    public init?(_ value: Value) {
        switch value.content {
        case .int(let i): self.init(milli: Int64(i) * 1000)
        case .double(let d) where d.isFinite: self.init(milli: Int64((d * 1000).rounded()))
        case .string(let s): self.init(parsing: s)
        default: return nil
        }
    }

    public init?(parsing text: String) {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
            ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9),
            ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        var number = Substring(text)
        var factor = 1.0
        for (suffix, multiplier) in suffixes where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            factor = multiplier
            break
        }
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 || text.hasPrefix("-") else { return nil }
        // Exponent forms (`1e3`) parse as plain numbers; plain digits keep exact integers.
        self.init(milli: Int64((value * factor * 1000).rounded()))
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.milli < rhs.milli }

    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity { Quantity(milli: lhs.milli + rhs.milli) }

    public static let zero = Quantity(milli: 0)

    /// Whole units, rounded up (cores, bytes).
    public var units: Int64 { (milli + 999) / 1000 }

    public var description: String {
        milli % 1000 == 0 ? String(milli / 1000) : "\(milli)m"
    }
}
