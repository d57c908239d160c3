import Hummingbird
import Logging
import SimforgeServer

/// `POST /internal/keys/rotate` (internal token): re-wraps every file's data key with the
/// current (first) master key, without touching the encrypted data. Run it after putting
/// a new key first in `FILES_MASTER_KEYS`; once it reports 0 left, the old key can go.
struct KeyRotationController<Repository: FileRepository> {
    let repository: Repository
    let keyring: MasterKeyring

    struct Result: ResponseEncodable {
        var currentKeyId: String
        var rewrapped: Int
    }

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.post("/keys/rotate", use: self.rotate)
    }

    @Sendable func rotate(_ request: Request, context: SimforgeRequestContext) async throws -> Result {
        var rewrapped = 0
        while true {
            let batch = try await self.repository.filesWrapped(notBy: self.keyring.currentKeyID, limit: 500, logger: context.logger)
            if batch.isEmpty { break }
            for file in batch {
                let fresh = try self.keyring.wrap(try self.keyring.unwrap(file.wrappedKey))
                if try await self.repository.replaceWrappedKey(id: file.id, old: file.wrappedKey, new: fresh, logger: context.logger) {
                    rewrapped += 1
                }
            }
        }
        context.logger.info("master key rotation done", metadata: ["files.rewrapped": "\(rewrapped)", "files.key_id": "\(self.keyring.currentKeyID)"])
        return Result(currentKeyId: self.keyring.currentKeyID, rewrapped: rewrapped)
    }
}
