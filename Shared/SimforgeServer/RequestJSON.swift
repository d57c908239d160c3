import Foundation
import Hummingbird

/// Decodes a small JSON request body, turning failures into DRF-style errors: a body that
/// is not JSON at all is `{"detail": "JSON parse error - ..."}`; a JSON body of the wrong
/// shape is a field map pointing at the offending field. Unknown fields are ignored, and
/// so is what they hold; a string the type reads that holds U+0000 is a 400 naming it.
public enum RequestJSON {
    public static let defaultLimit = 1024 * 1024

    public static func decode<Value: Codable>(
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

    public static func decode<Value: Codable>(_ type: Value.Type, from data: Data) throws -> Value {
        let value = try self.decodeAsSent(type, from: data)
        // What the type read, written back: the fields it knows, without the unknown ones.
        let read = try JSONSerialization.jsonObject(with: JSONEncoder.simforge().encode(value), options: [.fragmentsAllowed])
        if let path = Self.pathOfNullCharacter(in: read, at: []) {
            throw APIError(fieldErrors: FieldErrors.at(path, Self.nullCharacterMessage))
        }
        return value
    }

    /// Decodes without looking for U+0000: for a caller that decodes the fields it keeps
    /// with ``decode(_:from:)`` afterwards (a partial update merged onto a stored value).
    public static func decodeAsSent<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
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

    /// DRF's message for a string holding U+0000, which PostgreSQL cannot store.
    public static let nullCharacterMessage = "Null characters are not allowed."

    /// Where the first string (or key) holding U+0000 is in a parsed JSON value.
    private static func pathOfNullCharacter(in value: Any, at path: [any CodingKey]) -> [any CodingKey]? {
        switch value {
        case let text as String:
            return text.utf8.contains(0) ? path : nil
        case let object as [String: Any]:
            for (key, element) in object {
                let here = path + [JSONKey(stringValue: key)]
                if key.utf8.contains(0) { return here }
                if let found = Self.pathOfNullCharacter(in: element, at: here) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = Self.pathOfNullCharacter(in: element, at: path + [JSONKey(intValue: index)]) { return found }
            }
            return nil
        default:
            return nil
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

/// A key of a JSON object or an index of an array, for ``FieldErrors/at(_:_:)``.
private struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Request {
    /// The query parameter `name` (percent-decoded), or `nil`; a value holding U+0000 is a
    /// 400 naming the parameter (PostgreSQL cannot compare with one).
    public func queryText(_ name: String) throws -> String? {
        guard let value = self.uri.queryParameters[name[...]] else { return nil }
        guard !value.utf8.contains(0) else {
            throw APIError.validation([name: .messages([RequestJSON.nullCharacterMessage])])
        }
        return String(value)
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
