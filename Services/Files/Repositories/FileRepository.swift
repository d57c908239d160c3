import Foundation
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
    /// Removes the row (and its upload state) and returns it, so its blob can be removed.
    func delete(id: String, owner: String, logger: Logger) async throws -> StoredFile?

    /// Output files of the owner's job (of one run, when given), in path order.
    func outputs(owner: String, jobId: String, runId: String?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [StoredFile])

    // MARK: Master key rotation

    /// Up to `limit` files whose data key is wrapped by another key than `currentKeyID`.
    func filesWrapped(notBy currentKeyID: String, limit: Int, logger: Logger) async throws -> [StoredFile]
    /// Replaces a file's wrapped key, if it is still `old`; `false` if it changed meanwhile.
    func replaceWrappedKey(id: String, old: MasterKeyring.WrappedKey, new: MasterKeyring.WrappedKey, logger: Logger) async throws -> Bool

    // MARK: Resumable uploads

    /// Inserts a file that is not uploaded yet, with its upload state.
    func createUpload(_ file: StoredFile, length: Int64, expiresAt: Date, logger: Logger) async throws
    /// An unfinished or finished upload of the owner: the file, and its state while unfinished.
    func upload(id: String, owner: String, logger: Logger) async throws -> (file: StoredFile, state: UploadState?)?
    /// Takes the upload's writer lease for `writer` until `duration` from now, when no other
    /// writer holds one (or its lease ran out); `false` otherwise.
    func claimUpload(id: String, writer: String, for duration: Duration, logger: Logger) async throws -> Bool
    /// Extends `writer`'s lease; `false` when it no longer holds it.
    func renewUpload(id: String, writer: String, for duration: Duration, logger: Logger) async throws -> Bool
    func releaseUpload(id: String, writer: String, logger: Logger) async throws
    /// Records bytes received and staged (after the staging file is synced), only while
    /// `writer` holds the lease and the offset is still `from`; `false` otherwise.
    func recordProgress(id: String, writer: String, from: Int64, offset: Int64, stagedBytes: Int64, logger: Logger) async throws -> Bool
    /// Marks the file uploaded with its md5 and drops its upload state, atomically.
    func completeUpload(id: String, md5: String, logger: Logger) async throws
    /// Unfinished uploads whose time ran out.
    func expiredUploads(now: Date, logger: Logger) async throws -> [StoredFile]
}

/// Where an unfinished resumable upload stands.
struct UploadState: Sendable, Equatable {
    var length: Int64
    var offset: Int64
    var stagedBytes: Int64
    var expiresAt: Date
}

extension FileRepository {
    /// Inserts the row of a blob already committed; removes the blob if the row cannot be
    /// written, so no blob is left without its row.
    func insertCommitted(_ file: StoredFile, store: BlobStore, logger: Logger) async throws {
        do {
            try await self.insert(file, logger: logger)
        } catch {
            try? await store.delete(file.blobName)
            throw error
        }
    }
}
