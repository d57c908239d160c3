import Foundation

/// A stored file (API.md "Objects"): an upload, or an output of a job's run.
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
    /// Storage path `user/user_{userId}/{stem}-{uuid}{ext}`.
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

    public init(
        id: String, typeId: Int, name: String, dateUploaded: Date, relativePath: String, path: String,
        encodedEncryptionKey: String, sharedWith: [String] = [], decryptedSize: Int64, owner: String, isUploaded: Bool,
        viewInBrowser: Bool, md5: String?, downloadUrl: String
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
    }
}
