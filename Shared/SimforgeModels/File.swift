import Foundation

/// A stored file (API.md "Objects"): an upload, or an output of a job's run. Every key of the
/// Rescale docs' File is always written (`md5` is `null` until the upload is complete).
public struct File: Codable, Sendable, Equatable {
    /// `typeId` values.
    public enum TypeID {
        public static let input = 1
        public static let output = 5
        /// Every type the API knows.
        public static let all: Set<Int> = [1, 2, 3, 4, 5, 7, 8, 9, 10]
    }

    public var id: String
    public var typeId: Int
    public var name: String
    public var dateUploaded: Date
    /// Path inside the job's working directory for outputs; the name for uploads.
    public var relativePath: String
    /// The logical path clients see: `user/user_{userId}/{stem}-{uuid}{ext}` for uploads,
    /// `user/user_{userId}/output/job_{jobId}/run{runId}/{relativePath}` for outputs.
    public var path: String
    /// base64 of the file's data key wrapped by a master key; never the raw key.
    public var encodedEncryptionKey: String
    public var sharedWith: [String]
    public var decryptedSize: Int64
    public var owner: String
    public var isUploaded: Bool
    public var viewInBrowser: Bool
    /// Hex MD5 of the plaintext.
    public var md5: String?
    /// Absolute URL of the contents.
    public var downloadUrl: String
    /// Always `false`: a deleted file is gone (404).
    public var isDeleted: Bool

    public init(
        id: String, typeId: Int, name: String, dateUploaded: Date, relativePath: String, path: String,
        encodedEncryptionKey: String, sharedWith: [String] = [], decryptedSize: Int64, owner: String, isUploaded: Bool,
        viewInBrowser: Bool, md5: String?, downloadUrl: String, isDeleted: Bool = false
    ) {
        self.id = id
        self.typeId = typeId
        self.name = name
        self.dateUploaded = dateUploaded
        self.relativePath = relativePath
        self.path = path
        self.encodedEncryptionKey = encodedEncryptionKey
        self.sharedWith = sharedWith
        self.decryptedSize = decryptedSize
        self.owner = owner
        self.isUploaded = isUploaded
        self.viewInBrowser = viewInBrowser
        self.md5 = md5
        self.downloadUrl = downloadUrl
        self.isDeleted = isDeleted
    }

    private enum CodingKeys: String, CodingKey {
        case id, typeId, name, dateUploaded, relativePath, path, encodedEncryptionKey, sharedWith, decryptedSize, owner, isUploaded,
             viewInBrowser, md5, downloadUrl, isDeleted
    }

    /// Files written before `isDeleted` existed (inside stored jobs) read as not deleted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.typeId = try container.decode(Int.self, forKey: .typeId)
        self.name = try container.decode(String.self, forKey: .name)
        self.dateUploaded = try container.decode(Date.self, forKey: .dateUploaded)
        self.relativePath = try container.decode(String.self, forKey: .relativePath)
        self.path = try container.decode(String.self, forKey: .path)
        self.encodedEncryptionKey = try container.decode(String.self, forKey: .encodedEncryptionKey)
        self.sharedWith = try container.decode([String].self, forKey: .sharedWith)
        self.decryptedSize = try container.decode(Int64.self, forKey: .decryptedSize)
        self.owner = try container.decode(String.self, forKey: .owner)
        self.isUploaded = try container.decode(Bool.self, forKey: .isUploaded)
        self.viewInBrowser = try container.decode(Bool.self, forKey: .viewInBrowser)
        self.md5 = try container.decodeIfPresent(String.self, forKey: .md5)
        self.downloadUrl = try container.decode(String.self, forKey: .downloadUrl)
        self.isDeleted = try container.decodeIfPresent(Bool.self, forKey: .isDeleted) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.typeId, forKey: .typeId)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.dateUploaded, forKey: .dateUploaded)
        try container.encode(self.relativePath, forKey: .relativePath)
        try container.encode(self.path, forKey: .path)
        try container.encode(self.encodedEncryptionKey, forKey: .encodedEncryptionKey)
        try container.encode(self.sharedWith, forKey: .sharedWith)
        try container.encode(self.decryptedSize, forKey: .decryptedSize)
        try container.encode(self.owner, forKey: .owner)
        try container.encode(self.isUploaded, forKey: .isUploaded)
        try container.encode(self.viewInBrowser, forKey: .viewInBrowser)
        try container.encode(self.md5, forKey: .md5)
        try container.encode(self.downloadUrl, forKey: .downloadUrl)
        try container.encode(self.isDeleted, forKey: .isDeleted)
    }
}
