import Foundation

/// Writes the compact JSON that `JSONEncoder.simforge()` writes (same escapes, slashes
/// unescaped, dates as ``ISODate``), straight into bytes. The hot read routes answer with
/// it: Codable's encoder builds a tree of boxed values, looks up generic metadata and sorts
/// keys on every call, which was a sixth of those routes' CPU. Types write their keys in
/// sorted (UTF-8) order themselves, as `.sortedKeys` would; tests compare both encoders.
public struct JSONWriter {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// What has been written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 512) {
        self.bytes.reserveCapacity(capacity)
    }

    /// An object whose members `body` writes (``key(_:)`` then a value, in sorted key order).
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
        body(&self)
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    /// An array of `items`, each written by `element`.
    public mutating func array<Items: Sequence>(_ items: Items, _ element: (inout JSONWriter, Items.Element) -> Void) {
        self.separate()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
        for item in items {
            element(&self, item)
        }
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// The key of the next value in an object.
    public mutating func key(_ name: String) {
        self.separate()
        self.appendQuoted(name)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// A string, escaped as the encoder escapes it (slashes left as they are).
    public mutating func string(_ value: String) {
        self.separate()
        self.appendQuoted(value)
        self.needsComma = true
    }

    /// An integer.
    public mutating func int(_ value: some BinaryInteger) {
        self.separate()
        self.bytes.append(contentsOf: String(value).utf8)
        self.needsComma = true
    }

    /// A number given as its JSON literal.
    public mutating func number(literal: String) {
        self.separate()
        self.bytes.append(contentsOf: literal.utf8)
        self.needsComma = true
    }

    /// `true` or `false`.
    public mutating func bool(_ value: Bool) {
        self.separate()
        self.bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
        self.needsComma = true
    }

    /// `null`.
    public mutating func null() {
        self.separate()
        self.bytes.append(contentsOf: "null".utf8)
        self.needsComma = true
    }

    /// A date as ``ISODate`` formats it, the encoder's date strategy.
    public mutating func date(_ value: Date) {
        self.string(ISODate.format(value))
    }

    /// `key` and its string, or `null`.
    public mutating func field(_ name: String, _ value: String?) {
        self.key(name)
        if let value { self.string(value) } else { self.null() }
    }

    /// `key` and its string, left out when `nil` (what `encodeIfPresent` does).
    public mutating func fieldIfPresent(_ name: String, _ value: String?) {
        if let value {
            self.key(name)
            self.string(value)
        }
    }

    private mutating func separate() {
        if self.needsComma {
            self.bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func appendQuoted(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        defer { self.bytes.append(UInt8(ascii: "\"")) }
        // Most strings need no escape: copy them whole.
        if !text.utf8.contains(where: Self.needsEscape) {
            self.bytes.append(contentsOf: text.utf8)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case UInt8(ascii: "\n"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                self.bytes.append(contentsOf: [Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]])
            default: self.bytes.append(byte)
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}

/// A value that writes itself with ``JSONWriter``, exactly as `JSONEncoder.simforge()` encodes it.
public protocol JSONWritable {
    /// Writes the value as one JSON value.
    func write(to json: inout JSONWriter)
}

extension JSONWritable {
    /// The value's JSON bytes.
    public var jsonBytes: [UInt8] {
        var json = JSONWriter()
        self.write(to: &json)
        return json.bytes
    }
}
