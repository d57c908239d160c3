import Logging
import SimforgeServer

/// The files a service stores, always scoped to their owner: another user's file does
/// not exist (`nil`), whatever its id.
protocol FileRepository: Sendable {
    func insert(_ file: StoredFile, logger: Logger) async throws
    func file(id: String, owner: String, logger: Logger) async throws -> StoredFile?
    /// The owner's files, newest first; `search` matches the name (case-insensitive).
    func files(owner: String, search: String?, typeId: Int?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [StoredFile])
    func update(id: String, owner: String, name: String?, typeId: Int?, logger: Logger) async throws -> StoredFile?
    /// Removes the row and returns it, so its blob can be removed.
    func delete(id: String, owner: String, logger: Logger) async throws -> StoredFile?
}
