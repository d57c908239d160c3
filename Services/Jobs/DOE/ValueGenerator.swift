import Foundation
import SimforgeModels

/// How a DOE variable's values are made (`valueGeneratorType` with its
/// `valueGeneratorSettings`). Rescale documents only FixedRange's settings; the others'
/// names are Simforge's, each accepting the obvious spellings:
///
/// | type | settings | values |
/// |---|---|---|
/// | `FixedRange` | `minvalue`, `maxvalue`, `increment` | min, min + increment, ... up to max (inclusive) |
/// | `Linspace` | `minvalue`, `maxvalue`, `count` | `count` evenly spaced values from min to max |
/// | `Uniform` | `minvalue`, `maxvalue` | random in [min, max) |
/// | `Normal` | `mean`, `stddev` | random, normally distributed |
/// | `Triangular` | `minvalue`, `mode`, `maxvalue` | random, triangular |
/// | `LogNormal` | `mean`, `stddev` (of the logarithm) | random, log-normally distributed |
///
/// The first two are deterministic (a grid); the others random (`monteCarloIterations`
/// samples, from the job's recorded seed).
enum ValueGenerator: Equatable {
    case fixedRange(min: Double, max: Double, increment: Double)
    case linspace(min: Double, max: Double, count: Int)
    case uniform(min: Double, max: Double)
    case normal(mean: Double, stddev: Double)
    case triangular(min: Double, mode: Double, max: Double)
    case logNormal(mean: Double, stddev: Double)

    static let types = ["FixedRange", "Linspace", "Uniform", "Normal", "Triangular", "LogNormal"]

    /// A problem of the generator's settings, for the field errors.
    struct Problem: Error {
        var message: String
    }

    /// The generator a variable asks for; at most `limit` values (a grid bigger than that
    /// is refused before it is made).
    init(type: String, settings: JSONValue, limit: Int) throws {
        func number(_ names: String...) throws -> Double {
            for name in names {
                switch settings[name] {
                case .number(let literal)?: if let value = Double(literal), value.isFinite { return value }
                case .string(let text)?: if let value = Double(text), value.isFinite { return value }
                default: continue
                }
                throw Problem(message: "'\(name)' must be a finite number.")
            }
            throw Problem(message: "'\(names[0])' is required.")
        }
        guard case .object = settings else { throw Problem(message: "valueGeneratorSettings must be an object.") }
        switch type {
        case "FixedRange":
            let (min, max, increment) = (try number("minvalue", "min"), try number("maxvalue", "max"), try number("increment", "step"))
            guard increment != 0, (max - min) * increment >= 0 else {
                throw Problem(message: "'increment' must be non-zero and go from minvalue towards maxvalue.")
            }
            guard (max - min) / increment < Double(limit) else { throw Problem(message: "The range makes more than \(limit) values.") }
            self = .fixedRange(min: min, max: max, increment: increment)
        case "Linspace":
            let count = try number("count", "num", "n")
            guard count >= 1, count <= Double(limit), count.rounded() == count else {
                throw Problem(message: "'count' must be a whole number from 1 to \(limit).")
            }
            self = .linspace(min: try number("minvalue", "min"), max: try number("maxvalue", "max"), count: Int(count))
        case "Uniform":
            let (min, max) = (try number("minvalue", "min"), try number("maxvalue", "max"))
            guard min < max else { throw Problem(message: "'minvalue' must be less than 'maxvalue'.") }
            self = .uniform(min: min, max: max)
        case "Normal", "LogNormal":
            let (mean, stddev) = (try number("mean", "mu"), try number("stddev", "stdev", "sigma"))
            guard stddev >= 0 else { throw Problem(message: "'stddev' must not be negative.") }
            self = type == "Normal" ? .normal(mean: mean, stddev: stddev) : .logNormal(mean: mean, stddev: stddev)
        case "Triangular":
            let (min, mode, max) = (try number("minvalue", "min"), try number("mode"), try number("maxvalue", "max"))
            guard min <= mode, mode <= max, min < max else { throw Problem(message: "Expected minvalue <= mode <= maxvalue, minvalue < maxvalue.") }
            self = .triangular(min: min, mode: mode, max: max)
        default:
            throw Problem(message: "Unknown generator '\(type.prefix(64))'; choose one of \(Self.types.joined(separator: ", ")).")
        }
    }

    var isRandom: Bool {
        switch self {
        case .fixedRange, .linspace: false
        default: true
        }
    }

    /// A deterministic generator's values.
    var grid: [Double] {
        switch self {
        case .fixedRange(let min, let max, let increment):
            let count = Int(((max - min) / increment + 1e-9).rounded(.down)) + 1
            return (0..<count).map { Self.tidy(min + Double($0) * increment) }
        case .linspace(let min, let max, let count):
            guard count > 1 else { return [Self.tidy(min)] }
            return (0..<count).map { Self.tidy(min + (max - min) * Double($0) / Double(count - 1)) }
        default:
            return []
        }
    }

    /// One random value.
    func sample(_ random: inout SeededRandom) -> Double {
        switch self {
        case .uniform(let min, let max): return min + (max - min) * random.unit()
        case .normal(let mean, let stddev): return mean + stddev * random.normal()
        case .logNormal(let mean, let stddev): return Foundation.exp(mean + stddev * random.normal())
        case .triangular(let min, let mode, let max):
            let u = random.unit()
            let split = (mode - min) / (max - min)
            return u < split ? min + ((max - min) * (mode - min) * u).squareRoot() : max - ((max - min) * (max - mode) * (1 - u)).squareRoot()
        case .fixedRange, .linspace:
            return self.grid.first ?? 0
        }
    }

    /// The value a nominal run gets: the middle of a range, a distribution's mean or mode.
    var nominal: Double {
        switch self {
        case .fixedRange(let min, let max, _), .linspace(let min, let max, _), .uniform(let min, let max): Self.tidy((min + max) / 2)
        case .normal(let mean, _): mean
        case .logNormal(let mean, let stddev): Foundation.exp(mean + stddev * stddev / 2)
        case .triangular(_, let mode, _): mode
        }
    }

    /// A computed value without the noise of binary floating point (`0.30000000000000004` → `0.3`).
    static func tidy(_ value: Double) -> Double {
        Double(String(format: "%.12g", value)) ?? value
    }

    /// How a value is shown to templates and the environment: `20` for 20.0, `3.5` for 3.5.
    static func display(_ value: Double) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
