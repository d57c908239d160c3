import Foundation

/// How the models read what real clients send: a missing key and a `null` both mean the
/// default, and integers may come as strings of digits (`"coresPerSlot": "1"`).
extension KeyedDecodingContainer {
    /// The value of `key`, or `fallback` when it is absent or null.
    func value<Value: Decodable>(_ type: Value.Type, _ key: Key, or fallback: Value) throws -> Value {
        try self.decodeIfPresent(type, forKey: key) ?? fallback
    }

    /// An integer sent as a number or as a string of digits; `nil` when absent or null.
    /// Anything else fails as an integer would.
    func lenientInt(_ key: Key) throws -> Int? {
        if let value = try? self.decodeIfPresent(Int.self, forKey: key) { return value }
        if let text = try? self.decodeIfPresent(String.self, forKey: key),
           let value = Int(text.trimmingCharacters(in: .whitespaces)) {
            return value
        }
        return try self.decodeIfPresent(Int.self, forKey: key)
    }
}
