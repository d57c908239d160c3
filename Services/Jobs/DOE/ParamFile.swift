import Foundation
import SimforgeModels

/// A DOE's parameter file: CSV whose header names the variables and whose every other
/// non-blank line is one run (RFC 4180 quoting, a byte-order mark, CRLF or LF lines; fields
/// are trimmed). A value that reads as a number is one; any other text is passed on as it is
/// written.
struct ParamFile: Equatable {
    var names: [String]
    /// One entry per run, one value per name.
    var rows: [[String]]

    /// A problem of the file, with the line it is on.
    struct Problem: Error, Equatable {
        var message: String
    }

    init(names: [String], rows: [[String]]) {
        self.names = names
        self.rows = rows
    }

    init(parsing text: String) throws {
        var lines = try Self.records(in: text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        lines.removeAll { $0.fields.count == 1 && $0.fields[0].isEmpty }
        guard let header = lines.first else { throw Problem(message: "The file is empty: its first line must name the variables.") }
        let names = header.fields
        for (index, name) in names.enumerated() where !RunPlanner.isVariableName(name) {
            throw Problem(message: "Line \(header.line): column \(index + 1) ('\(name.prefix(64))') is not a variable name (letters, digits, _).")
        }
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Problem(message: "Line \(header.line): the variable '\(duplicate)' is named twice.")
        }
        self.names = names
        self.rows = try lines.dropFirst().map { record in
            guard record.fields.count == names.count else {
                throw Problem(message: "Line \(record.line) has \(record.fields.count) values; the header names \(names.count) variables.")
            }
            return record.fields
        }
        guard !self.rows.isEmpty else { throw Problem(message: "The file has no line after its header: no run.") }
    }

    /// Each row as the run's variables.
    var runs: [[RunVariable]] {
        self.rows.map { row in
            zip(self.names, row).map { name, text in RunVariable(name: name, value: Double(text), displayValue: text) }
        }
    }

    /// The file's records with the line each starts on; quoted fields may hold commas,
    /// quotes (doubled) and line breaks.
    private static func records(in text: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var wasQuoted = false
        var line = 1
        var recordLine = 1
        var characters = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        func endField() {
            fields.append(wasQuoted ? field : field.trimmingCharacters(in: .whitespaces))
            field = ""
            wasQuoted = false
        }
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" { line += 1 }
                    field.unicodeScalars.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.trimmingCharacters(in: .whitespaces).isEmpty:
                field = ""
                quoted = true
                wasQuoted = true
            case ",":
                endField()
            case "\r":
                continue
            case "\n":
                endField()
                records.append((recordLine, fields))
                fields = []
                line += 1
                recordLine = line
            default:
                if wasQuoted && character != " " && character != "\t" {
                    throw Problem(message: "Line \(line): text after a closing quote.")
                }
                if !wasQuoted { field.unicodeScalars.append(character) }
            }
        }
        if quoted { throw Problem(message: "Line \(recordLine): a quote is never closed.") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            endField()
            records.append((recordLine, fields))
        }
        return records
    }
}
