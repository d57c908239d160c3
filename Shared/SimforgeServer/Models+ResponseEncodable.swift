import Foundation
import HTTPTypes
import Hummingbird
import SimforgeModels

// The wire models are plain Codable values (SimforgeModels imports no server framework);
// here they learn to be response bodies.
extension Page: ResponseGenerator, ResponseEncodable {}
extension Analysis: ResponseGenerator, ResponseEncodable {}
extension CoreType: ResponseGenerator, ResponseEncodable {}
extension APIRoot: ResponseGenerator, ResponseEncodable {}
extension AnalysisVersionEnvironment: ResponseGenerator, ResponseEncodable {}
extension File: ResponseGenerator, ResponseEncodable {}

extension Response {
    /// The content type of every JSON answer.
    public static let jsonContentType = "application/json; charset=utf-8"

    /// A JSON response with the API's encoder, for statuses other than 200 or bodies built
    /// outside a `ResponseEncodable` return.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: Self.jsonContentType],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.simforge().encode(value))))
    }
}

extension Response {
    /// A JSON response written by ``JSONWriter``: the same bytes as ``json(_:status:)``,
    /// without Codable's encoder (the hot read routes).
    public static func json(writing value: some JSONWritable, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: Self.jsonContentType],
            body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}
