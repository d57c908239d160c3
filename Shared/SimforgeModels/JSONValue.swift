/// A JSON document as parsed, for passing stored JSON through without decoding it into
/// model types: members keep their order; numbers keep their text.
public enum JSONValue: Sendable {
    /// A string, unescaped.
    case string(String)
    /// A number, as written.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
    /// An array.
    case array([JSONValue])
    /// An object's members in the order they came.
    case object([(key: String, value: JSONValue)])

    /// Text that is not JSON.
    public struct ParseError: Error, CustomStringConvertible {
        /// Where parsing stopped, in UTF-8 bytes.
        public let offset: Int
        /// `invalid JSON at byte N`.
        public var description: String { "invalid JSON at byte \(self.offset)" }
    }

    /// Parses one JSON value (RFC 8259; numbers are only checked to be numbers), surrounded
    /// by nothing but whitespace.
    public init(parsing text: String) throws {
        var text = text
        self = try text.withUTF8 { bytes in
            var parser = Parser(bytes: bytes)
            let value = try parser.value()
            parser.skipWhitespace()
            guard parser.offset == bytes.count else { throw ParseError(offset: parser.offset) }
            return value
        }
    }

    /// The member `key` of an object (`nil` for anything else); setting replaces it or
    /// appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key == key }?.value
        }
        set {
            guard case .object(var members) = self else { return }
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
            self = .object(members)
        }
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements of an array, each changed by `change`; anything else as it is.
    public func mappingElements(_ change: (JSONValue) -> JSONValue) -> JSONValue {
        guard case .array(let elements) = self else { return self }
        return .array(elements.map(change))
    }
}

extension JSONValue: JSONWritable {
    /// Object members in sorted (UTF-8) key order, as `JSONEncoder.simforge()` sorts them.
    public func write(to json: inout JSONWriter) {
        switch self {
        case .string(let value): json.string(value)
        case .number(let literal): json.number(literal: literal)
        case .bool(let value): json.bool(value)
        case .null: json.null()
        case .array(let elements): json.array(elements) { json, element in element.write(to: &json) }
        case .object(let members):
            json.object { json in
                for member in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    json.key(member.key)
                    member.value.write(to: &json)
                }
            }
        }
    }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func value() throws -> JSONValue {
        self.skipWhitespace()
        guard self.offset < self.bytes.count else { throw self.error() }
        switch self.bytes[self.offset] {
        case UInt8(ascii: "{"): return try self.object()
        case UInt8(ascii: "["): return try self.array()
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        default: return .number(try self.number())
        }
    }

    mutating func skipWhitespace() {
        while self.offset < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.offset]) {
            self.offset += 1
        }
    }

    private func error() -> JSONValue.ParseError {
        JSONValue.ParseError(offset: self.offset)
    }

    private mutating func expect(_ byte: UInt8) throws {
        self.skipWhitespace()
        guard self.offset < self.bytes.count, self.bytes[self.offset] == byte else { throw self.error() }
        self.offset += 1
    }

    /// Consumes `byte` if it comes next (after whitespace).
    private mutating func consume(_ byte: UInt8) -> Bool {
        self.skipWhitespace()
        guard self.offset < self.bytes.count, self.bytes[self.offset] == byte else { return false }
        self.offset += 1
        return true
    }

    private mutating func object() throws -> JSONValue {
        try self.expect(UInt8(ascii: "{"))
        var members: [(key: String, value: JSONValue)] = []
        if self.consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            self.skipWhitespace()
            let key = try self.string()
            try self.expect(UInt8(ascii: ":"))
            members.append((key, try self.value()))
        } while self.consume(UInt8(ascii: ","))
        try self.expect(UInt8(ascii: "}"))
        return .object(members)
    }

    private mutating func array() throws -> JSONValue {
        try self.expect(UInt8(ascii: "["))
        var elements: [JSONValue] = []
        if self.consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try self.value())
        } while self.consume(UInt8(ascii: ","))
        try self.expect(UInt8(ascii: "]"))
        return .array(elements)
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard self.offset + count <= self.bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(self.bytes[self.offset..<self.offset + count])
        else { throw self.error() }
        self.offset += count
    }

    private mutating func number() throws -> String {
        let start = self.offset
        while self.offset < self.bytes.count, "+-0123456789.eE".utf8.contains(self.bytes[self.offset]) {
            self.offset += 1
        }
        let literal = String(decoding: self.bytes[start..<self.offset], as: UTF8.self)
        guard self.offset > start, Double(literal) != nil else { throw JSONValue.ParseError(offset: start) }
        return literal
    }

    private mutating func string() throws -> String {
        guard self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "\"") else { throw self.error() }
        self.offset += 1
        let start = self.offset
        // Most strings have no escapes: take their bytes as they are.
        while self.offset < self.bytes.count {
            let byte = self.bytes[self.offset]
            if byte == UInt8(ascii: "\"") {
                defer { self.offset += 1 }
                return String(decoding: self.bytes[start..<self.offset], as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            self.offset += 1
        }
        var text = Array(self.bytes[start..<self.offset])
        while self.offset < self.bytes.count {
            let byte = self.bytes[self.offset]
            self.offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try self.escape(into: &text)
            case 0..<0x20:
                throw JSONValue.ParseError(offset: self.offset - 1)
            default:
                text.append(byte)
            }
        }
        throw self.error()
    }

    private mutating func escape(into text: inout [UInt8]) throws {
        guard self.offset < self.bytes.count else { throw self.error() }
        let byte = self.bytes[self.offset]
        self.offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try self.hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate: its low half must follow as another \u escape.
                guard self.offset + 1 < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "\\"),
                      self.bytes[self.offset + 1] == UInt8(ascii: "u")
                else { throw self.error() }
                self.offset += 2
                let low = try self.hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw self.error() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw self.error() }
            text.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw JSONValue.ParseError(offset: self.offset - 1)
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard self.offset + 4 <= self.bytes.count else { throw self.error() }
        var value: UInt32 = 0
        for byte in self.bytes[self.offset..<self.offset + 4] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { throw self.error() }
            value = value * 16 + UInt32(digit)
        }
        self.offset += 4
        return value
    }
}
