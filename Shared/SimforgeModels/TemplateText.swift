import Foundation

/// A DOE template (Rescale's syntax, a subset of FreeMarker): `${name}` is the run's value
/// of variable `name` (its `displayValue`), `${name?string("0.00")}` the number formatted
/// with a decimal pattern (`0` a digit, `#` an optional one, `E` scientific), rounding half
/// to even as FreeMarker does. `$` followed by anything else is left as it is.
public enum TemplateText {
    /// A placeholder names no variable of the run.
    public struct UnknownPlaceholder: Error, Equatable {
        public let name: String

        public init(name: String) {
            self.name = name
        }
    }

    /// The names of every placeholder in `template`, in order of first use.
    public static func placeholders(in template: String) -> [String] {
        var names: [String] = []
        for match in template.matches(of: Self.placeholder) where !names.contains(String(match.output.1)) {
            names.append(String(match.output.1))
        }
        return names
    }

    /// `template` with each placeholder replaced by its variable's value.
    public static func render(_ template: String, variables: [RunVariable]) throws -> String {
        let byName = Dictionary(variables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var output = ""
        var rest = template[...]
        while let match = rest.firstMatch(of: Self.placeholder) {
            output += rest[..<match.range.lowerBound]
            let name = String(match.output.1)
            guard let variable = byName[name] else { throw UnknownPlaceholder(name: name) }
            if let pattern = match.output.2, let value = variable.value {
                output += Self.format(value, pattern: String(pattern))
            } else {
                output += variable.displayValue
            }
            rest = rest[match.range.upperBound...]
        }
        return output + rest
    }

    /// `${name}` or `${name?string("pattern")}`.
    private nonisolated(unsafe) static let placeholder = /\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\?string\(\s*"([^"]*)"\s*\))?\s*\}/

    /// `value` in a Java DecimalFormat pattern (`0.00##`, `0E0`, `00E00`, `0.0##E0`).
    public static func format(_ value: Double, pattern: String) -> String {
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.roundingMode = .halfEven
        formatter.usesGroupingSeparator = false
        formatter.positiveFormat = pattern
        formatter.negativeFormat = "-" + pattern
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}
