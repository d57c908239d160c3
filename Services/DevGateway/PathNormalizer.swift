/// Kong matches routes on a normalized path: percent-encoded unreserved characters are
/// decoded and `.`/`..` segments resolved (RFC 3986 6.2.2), so `/u/api/v2/../../internal`
/// cannot slip past a route. `nil` for a path that climbs above the root.
enum PathNormalizer {
    static func normalize(_ path: String) -> String? {
        var bytes = Array(path.utf8)[...]
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
               let high = hexValue(bytes[bytes.startIndex]), let low = hexValue(bytes[bytes.startIndex + 1]) {
                let value = high << 4 | low
                if isUnreserved(value) {
                    output.append(value)
                    bytes = bytes.dropFirst(2)
                    continue
                }
                // Keep other escapes, with upper-case hex digits.
                output.append(byte)
                output.append(contentsOf: String(format2: value).utf8)
                bytes = bytes.dropFirst(2)
                continue
            }
            output.append(byte)
        }
        let decoded = String(decoding: output, as: UTF8.self)

        var segments: [Substring] = []
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in parts.enumerated() {
            let isLast = index == parts.count - 1
            switch segment {
            case ".":
                if isLast { segments.append("") }
            case "..":
                guard !segments.isEmpty else { return nil }
                segments.removeLast()
                if isLast { segments.append("") }
            default:
                segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

extension String {
    /// Two upper-case hex digits.
    fileprivate init(format2 value: UInt8) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[Int(value >> 4)], digits[Int(value & 0x0F)]])
    }
}
