/// Short random base62 ids (`XkpTse`), API.md "Conventions". Random, so nothing is
/// enumerable; callers insert with a uniqueness constraint and retry on the rare clash.
public enum ShortID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new id of `length` characters (at least 6).
    public static func make(length: Int = 6) -> String {
        precondition(length >= 6, "ids have at least 6 characters")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &generator)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` could be an id we made: base62, 6 to 64 characters.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        (6...64).contains(text.utf8.count) && text.utf8.allSatisfy { Self.alphabet.contains($0) }
    }
}
