import Foundation
import Hummingbird

/// Decodes a small JSON request body, turning failures into DRF-style errors: a body that
/// is not JSON at all is `{"detail": "JSON parse error - ..."}`; a JSON body of the wrong
/// shape is a field map pointing at the offending field. Unknown fields are ignored.
public enum RequestJSON {
    public static let defaultLimit = 1024 * 1024

    public static func decode<Value: Decodable>(
        _ type: Value.Type, from request: Request, context: some RequestContext, limit: Int = defaultLimit
    ) async throws -> Value {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, detail: "Request body is larger than \(limit) bytes.")
        }
        return try self.decode(type, from: Data(buffer: buffer))
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.badRequest("JSON parse error - the body is not valid JSON.")
        }
        do {
            return try JSONDecoder.simforge().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError(fieldErrors: FieldErrors.at(context.codingPath + [key], "This field is required."))
        } catch let DecodingError.valueNotFound(_, context) {
            throw APIError(fieldErrors: FieldErrors.at(context.codingPath, "This field may not be null."))
        } catch let DecodingError.typeMismatch(expected, context) {
            throw APIError(fieldErrors: FieldErrors.at(context.codingPath, Self.typeMessage(expected)))
        } catch let DecodingError.dataCorrupted(context) {
            throw APIError(fieldErrors: FieldErrors.at(context.codingPath, "Invalid value."))
        }
    }

    private static func typeMessage(_ expected: Any.Type) -> String {
        switch expected {
        case is Int.Type, is Int64.Type, is Int32.Type: "A valid integer is required."
        case is Double.Type, is Float.Type: "A valid number is required."
        case is Bool.Type: "Must be a valid boolean."
        case is String.Type: "Not a valid string."
        default: "Incorrect type."
        }
    }
}

extension FieldErrors {
    /// `message` at `path`, nested as DRF nests it (lists get empty objects before the index).
    public static func at(_ path: [any CodingKey], _ message: String) -> FieldErrors {
        var errors = FieldErrors.messages([message])
        for key in path.reversed() {
            if let index = key.intValue {
                errors = .list(Array(repeating: .object([:]), count: index) + [errors])
            } else {
                errors = .object([key.stringValue: errors])
            }
        }
        return errors
    }
}

extension APIError {
    /// 400 with the given field errors; a top-level non-field problem goes under
    /// `non_field_errors`, as DRF does.
    public init(fieldErrors: FieldErrors) {
        switch fieldErrors {
        case .object(let fields): self = .validation(fields)
        default: self = .validation(["non_field_errors": fieldErrors])
        }
    }
}
