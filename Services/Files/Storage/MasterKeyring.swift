import Crypto
import Foundation
import SimforgeServer

/// The master keys that wrap each file's data key. They come from configuration
/// (`FILES_MASTER_KEYS`), never from the database. The first key wraps new files; the
/// others still unwrap files wrapped before a rotation.
/// `@unchecked`: `SymmetricKey` (an immutable value) is not marked `Sendable` in swift-crypto 3.
struct MasterKeyring: @unchecked Sendable {
    struct WrappedKey: Sendable, Equatable {
        var keyID: String
        /// base64(nonce ‖ ciphertext ‖ tag): the API's `encodedEncryptionKey`.
        var encoded: String
    }

    struct UnknownKeyError: Error, CustomStringConvertible {
        let keyID: String
        var description: String { "master key '\(self.keyID)' is not configured" }
    }

    let currentKeyID: String
    private let keys: [String: SymmetricKey]

    /// `spec`: comma-separated `id:base64-of-32-bytes`, newest first.
    init(spec: String) throws {
        var keys: [String: SymmetricKey] = [:]
        var order: [String] = []
        for entry in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].wholeMatch(of: /[A-Za-z0-9_.-]{1,64}/) != nil else {
                throw ConfigurationError("FILES_MASTER_KEYS entries are id:base64key (id of [A-Za-z0-9_.-])")
            }
            guard let bytes = Data(base64Encoded: parts[1]), bytes.count == 32 else {
                throw ConfigurationError("FILES_MASTER_KEYS key '\(parts[0])' must be 32 bytes, base64-encoded")
            }
            guard keys[parts[0]] == nil else { throw ConfigurationError("FILES_MASTER_KEYS names key '\(parts[0])' twice") }
            keys[parts[0]] = SymmetricKey(data: bytes)
            order.append(parts[0])
        }
        guard let current = order.first else { throw ConfigurationError("FILES_MASTER_KEYS has no key") }
        self.currentKeyID = current
        self.keys = keys
    }

    /// Wraps `dataKey` with the current master key.
    func wrap(_ dataKey: SymmetricKey) throws -> WrappedKey {
        try self.wrap(dataKey, with: self.currentKeyID)
    }

    func unwrap(_ wrapped: WrappedKey) throws -> SymmetricKey {
        guard let master = self.keys[wrapped.keyID] else { throw UnknownKeyError(keyID: wrapped.keyID) }
        guard let combined = Data(base64Encoded: wrapped.encoded) else { throw CryptoKitError.incorrectParameterSize }
        let box = try AES.GCM.SealedBox(combined: combined)
        let raw = try AES.GCM.open(box, using: master, authenticating: Self.associatedData(keyID: wrapped.keyID))
        return SymmetricKey(data: raw)
    }

    private func wrap(_ dataKey: SymmetricKey, with keyID: String) throws -> WrappedKey {
        guard let master = self.keys[keyID] else { throw UnknownKeyError(keyID: keyID) }
        let raw = dataKey.withUnsafeBytes { Data($0) }
        let box = try AES.GCM.seal(raw, using: master, authenticating: Self.associatedData(keyID: keyID))
        return WrappedKey(keyID: keyID, encoded: box.combined!.base64EncodedString())
    }

    private static func associatedData(keyID: String) -> Data {
        Data("simforge-data-key-v1|\(keyID)".utf8)
    }
}
