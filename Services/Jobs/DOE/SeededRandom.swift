import Foundation

/// A reproducible source of random numbers (SplitMix64): the same seed gives the same DOE
/// runs, so a job's random values can be made again from the seed recorded with it.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(self.next() >> 11) / Double(1 << 53)
    }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(self.unit(), .leastNonzeroMagnitude)
        let u2 = self.unit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }
}
