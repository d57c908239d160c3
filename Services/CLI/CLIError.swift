import Foundation
import NIOHTTP1

/// Every failure the CLI reports: one line for the user and the exit code scripts branch
/// on (sysexits.h values, listed in `simforge --help`).
struct CLIError: Error {
    let message: String
    let exitCode: Int32
    /// The HTTP status of the answer that failed, if there was one.
    var httpStatus: Int?

    /// A job that ended without success (`watch`, `run --watch`).
    static let jobFailed: Int32 = 1
    /// Bad arguments or configuration (EX_USAGE; ArgumentParser uses it too).
    static let usage: Int32 = 64
    /// The API refused the request (a 4xx other than authentication; EX_DATAERR).
    static let refused: Int32 = 65
    /// A local input is missing or unreadable (EX_NOINPUT).
    static let noInput: Int32 = 66
    /// The server failed or could not be reached (5xx, connection errors; EX_UNAVAILABLE).
    static let unavailable: Int32 = 69
    /// Transferred bytes do not match the server's MD5, or a local write failed (EX_IOERR).
    static let integrity: Int32 = 74
    /// The token is missing, wrong, or not allowed on this URL (401/403; EX_NOPERM).
    static let authentication: Int32 = 77
    /// The user pressed ^C (128 + SIGINT, as shells report it).
    static let interrupted: Int32 = 130

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: Self.usage) }

    /// The error of an HTTP answer: the API's `detail` (DRF), Kong's `message`, or its
    /// field errors flattened to `field.sub[0]: message`, with the status.
    static func http(status: Int, body: [UInt8], method: String, url: String) -> CLIError {
        let reason = Self.reason(of: body) ?? HTTPResponseStatus(statusCode: status).reasonPhrase
        let code: Int32 = switch status {
        case 401, 403: Self.authentication
        case 400..<500: Self.refused
        default: Self.unavailable
        }
        let oneLine = reason.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
        return CLIError(message: "\(oneLine) (HTTP \(status) on \(method) \(url))", exitCode: code, httpStatus: status)
    }

    private static func reason(of body: [UInt8]) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        if let object = json as? [String: Any] {
            for key in ["detail", "message"] { if let text = object[key] as? String { return text } }
        }
        let fields = Self.fieldErrors(json, path: "")
        return fields.isEmpty ? nil : fields.joined(separator: "; ")
    }

    /// DRF validation errors: objects of fields, lists of messages, nested for nested objects.
    private static func fieldErrors(_ json: Any, path: String) -> [String] {
        switch json {
        case let text as String:
            return [path.isEmpty ? text : "\(path): \(text)"]
        case let object as [String: Any]:
            return object.keys.sorted().flatMap { key in
                Self.fieldErrors(object[key]!, path: path.isEmpty ? key : "\(path).\(key)")
            }
        case let list as [Any]:
            // A list of strings is the messages of one field; a list of objects is per element.
            return list.enumerated().flatMap { index, element in
                Self.fieldErrors(element, path: element is String ? path : "\(path)[\(index)]")
            }
        default:
            return []
        }
    }
}

extension CLIError: CustomStringConvertible {
    var description: String { self.message }
}
