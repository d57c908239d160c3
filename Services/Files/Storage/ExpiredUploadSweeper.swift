import Foundation
import Logging
import ServiceLifecycle

/// Removes resumable uploads that were not finished in time: their row, upload state and
/// staged bytes. Runs every `interval` (the first time one interval after start, once
/// migrations have run), until graceful shutdown.
struct ExpiredUploadSweeper<Repository: FileRepository>: Service {
    let repository: Repository
    let staging: UploadStaging
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: self.interval)) != nil {
                do {
                    try await self.sweep()
                } catch {
                    self.logger.warning("sweeping expired uploads failed", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }

    /// One pass; returns how many uploads it removed.
    @discardableResult
    func sweep(now: Date = Date()) async throws -> Int {
        let expired = try await self.repository.expiredUploads(now: now, logger: self.logger)
        for file in expired {
            _ = try await self.repository.delete(id: file.id, owner: file.owner, logger: self.logger)
            await self.staging.delete(file.id)
        }
        if !expired.isEmpty {
            self.logger.info("removed expired uploads", metadata: ["files.count": "\(expired.count)"])
        }
        return expired.count
    }
}
