import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// The caller's files a job refers to, asked of the files service with the new job's token
/// (which reaches only its owner's files): the whole File of each, or why it cannot be used.
struct FileResolver: Sendable {
    let files: InternalClient
    let jobId: String
    let owner: String
    let tokenSecret: String

    private var token: (String, String) {
        (JobToken.header, JobToken(jobId: self.jobId, owner: self.owner).mint(secret: self.tokenSecret))
    }

    func resolve(_ id: String, logger: Logger) async throws -> Result<File, JobValidator.Problem> {
        guard ShortID.isWellFormed(id) else { return .failure(.init("File '\(id)' not found.")) }
        let file = try await self.files.get("/internal/jobs/\(self.jobId)/files/\(id)", as: File.self, headers: [self.token], logger: logger)
        guard let file else { return .failure(.init("File '\(id)' not found.")) }
        guard file.isUploaded else { return .failure(.init("File '\(id)' is not fully uploaded.")) }
        return .success(file)
    }

    /// A (small) file's text, at most `limit` bytes: a parameter file, a template.
    func text(of file: File, limit: Int, logger: Logger) async throws -> Result<String, JobValidator.Problem> {
        guard file.decryptedSize <= Int64(limit) else {
            return .failure(.init("File '\(file.name)' is larger than \(limit) bytes."))
        }
        guard let data = try await self.files.data(
            "/internal/jobs/\(self.jobId)/files/\(file.id)/contents", headers: [self.token], limit: limit, logger: logger)
        else { return .failure(.init("File '\(file.id)' not found.")) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(.init("File '\(file.name)' is not UTF-8 text.")) }
        return .success(text)
    }
}
