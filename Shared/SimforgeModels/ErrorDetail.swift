/// The body of every non-validation error response: `{"detail": "..."}` (API.md "Conventions").
public struct ErrorDetail: Codable, Sendable, Equatable {
    /// Human readable reason.
    public var detail: String

    /// Creates an error body.
    public init(detail: String) {
        self.detail = detail
    }
}
