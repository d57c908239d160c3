import Foundation
import HTTPTypes
import Hummingbird
import SimforgeModels

/// Validation messages in Django-REST-Framework's shape: field → messages, nested for
/// nested objects and lists (`{"jobanalyses": [{"hardware": {"coreType": ["..."]}}]}`).
public indirect enum FieldErrors: Encodable, Sendable, Equatable {
    case messages([String])
    case object([String: FieldErrors])
    /// One entry per list element; valid elements are an empty object, as in DRF.
    case list([FieldErrors])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .messages(let messages): try container.encode(messages)
        case .object(let fields): try container.encode(fields)
        case .list(let items): try container.encode(items)
        }
    }
}

/// An error a client should see, rendered in the API.md shape: `{"detail": "..."}` or, for
/// validation, ``FieldErrors``. This is the only error type whose text reaches a client.
public struct APIError: Error, Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case detail(String)
        case fields(FieldErrors)
    }

    public var status: HTTPResponse.Status
    public var body: Body
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.body = .detail(detail)
        self.headers = headers
    }

    /// 400 with field errors.
    public static func validation(_ fields: [String: FieldErrors]) -> APIError {
        APIError(status: .badRequest, body: .fields(.object(fields)), headers: [:])
    }

    public static func notFound(_ detail: String = "Not found.") -> APIError {
        APIError(.notFound, detail: detail)
    }

    public static func badRequest(_ detail: String) -> APIError {
        APIError(.badRequest, detail: detail)
    }

    public static let notAuthenticated = APIError(.unauthorized, detail: "Authentication credentials were not provided.")
    public static let permissionDenied = APIError(.forbidden, detail: "You do not have permission to perform this action.")
    public static let serverError = APIError(.internalServerError, detail: "A server error occurred.")
    public static let serviceUnavailable = APIError(.serviceUnavailable, detail: "Service temporarily unavailable, try again later.")

    private init(status: HTTPResponse.Status, body: Body, headers: HTTPFields) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The DRF message for a status when the thrower gave none.
    static func defaultDetail(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "Bad request."
        case .unauthorized: APIError.notAuthenticated.detailText
        case .forbidden: APIError.permissionDenied.detailText
        case .notFound: "Not found."
        case .methodNotAllowed: "Method not allowed."
        case .conflict: "Conflict."
        case .contentTooLarge: "Request body is too large."
        case .unsupportedMediaType: "Unsupported media type in request."
        case .tooManyRequests: "Request was throttled."
        case .serviceUnavailable: APIError.serviceUnavailable.detailText
        default: status.code >= 500 ? APIError.serverError.detailText : status.reasonPhrase
        }
    }

    private var detailText: String {
        if case .detail(let text) = self.body { return text }
        return ""
    }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try self.response()
    }

    /// The error as a DRF-style JSON response.
    public func response() throws -> Response {
        var headers = self.headers
        headers[.contentType] = Response.jsonContentType
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: try self.jsonBody()))
    }

    /// The response's body: `{"detail": "..."}` or the field errors.
    public func jsonBody() throws -> ByteBuffer {
        let encoder = JSONEncoder.simforge()
        switch self.body {
        case .detail(let detail): return ByteBuffer(bytes: try encoder.encode(ErrorDetail(detail: detail)))
        case .fields(let fields): return ByteBuffer(bytes: try encoder.encode(fields))
        }
    }
}
