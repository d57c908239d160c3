import Crypto
import Foundation

/// A credential scoped to one job, for that job's agent: it lets the agent read its
/// owner's input files, store the job's outputs and report the job's events, and nothing
/// else. Minted by the jobs service; checked by files and jobs with the shared secret
/// (`INTERNAL_TOKEN`), never stored. Format: `jobId.owner.hex(HMAC-SHA256)`.
public struct JobToken: Sendable, Equatable {
    public let jobId: String
    public let owner: String

    public static let header = "X-Job-Token"

    public init(jobId: String, owner: String) {
        self.jobId = jobId
        self.owner = owner
    }

    public func mint(secret: String) -> String {
        "\(self.jobId).\(self.owner).\(Self.mac(jobId: self.jobId, owner: self.owner, secret: secret))"
    }

    /// The scope of a token made with `secret`, or `nil` for anything else.
    public static func verify(_ token: String, secret: String) -> JobToken? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
              constantTimeEquals(parts[2], mac(jobId: parts[0], owner: parts[1], secret: secret))
        else { return nil }
        return JobToken(jobId: parts[0], owner: parts[1])
    }

    private static func mac(jobId: String, owner: String, secret: String) -> String {
        let key = SymmetricKey(data: Data("simforge-job-token-v1|\(secret)".utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(jobId)|\(owner)".utf8), using: key)
        return code.map { String(format: "%02x", $0) }.joined()
    }
}
