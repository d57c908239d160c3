import Foundation
import SimforgeModels

/// A files row: the public File plus what stays inside the service (blob name, key id).
struct StoredFile: Sendable, Equatable {
    var id: String
    var owner: String
    var typeId: Int
    var name: String
    var relativePath: String
    var storagePath: String
    var blobName: String
    var wrappedKey: MasterKeyring.WrappedKey
    var decryptedSize: Int64
    var md5: String?
    var isUploaded: Bool
    var viewInBrowser: Bool
    var jobId: String?
    var runId: String?
    var dateUploaded: Date

    /// The public object; `apiBase` is the caller's `.../{userId}/api/v2/`.
    func wire(apiBase: String) -> File {
        File(
            id: self.id, typeId: self.typeId, name: self.name, dateUploaded: self.dateUploaded,
            relativePath: self.relativePath, path: self.storagePath, encodedEncryptionKey: self.wrappedKey.encoded,
            decryptedSize: self.decryptedSize, owner: self.owner, isUploaded: self.isUploaded,
            viewInBrowser: self.viewInBrowser, md5: self.md5, downloadUrl: apiBase + "files/\(self.id)/contents/")
    }

    /// An upload's `path`: `user/user_{userId}/{stem}-{uuid}{ext}`.
    static func storagePath(owner: String, name: String, blobName: String) -> String {
        let ext = (name as NSString).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        return "user/user_\(owner)/\(stem)-\(blobName)\(ext.isEmpty ? "" : "." + ext)"
    }

    /// An output's `path`, Rescale's: `user/user_{userId}/output/job_{jobId}/run{runId}/{relativePath}`.
    /// Clients rebuild a job's output tree from it (the python SDK keeps what follows the
    /// fourth `/`: `run1/dir/file.txt`). The blob keeps its own name.
    static func outputPath(owner: String, jobId: String, runId: String, relativePath: String) -> String {
        "user/user_\(owner)/output/job_\(jobId)/run\(runId)/\(relativePath)"
    }
}
