import Foundation
import SimforgeModels
import SimforgeServer

/// What every way of storing a file checks the same way: its name, its type, its size.
enum UploadRules {
    static func typeId(_ text: String?) throws -> Int {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return File.TypeID.input }
        guard let value = Int(text), File.TypeID.all.contains(value) else {
            throw APIError.validation(["typeId": .messages(["\"\(text.prefix(32))\" is not a valid file type."])])
        }
        return value
    }

    /// The part's filename without directory components or control characters.
    static func sanitizedName(_ filename: String?) -> String {
        let base = (filename ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { return "file" }
        return String(cleaned.prefix(255))
    }

    /// A name a client may give a file: 1 to 255 characters, no `/`, `\\` or control
    /// character, not `.` or `..` (deploy/openapi.yaml's `FileName`).
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.count <= 255 && name != "." && name != ".."
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }
    }

    static func tooLarge(_ limit: Int64) -> APIError {
        APIError(.contentTooLarge, detail: "File too large: the limit is \(limit) bytes.")
    }
}
