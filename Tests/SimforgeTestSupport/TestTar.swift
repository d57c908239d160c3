import Foundation

/// Tar archives (ustar, optionally gzipped) as a user would upload them, and as an attacker
/// would craft them: any path, links, devices, GNU long names.
public enum TestTar {
    public enum Entry {
        case file(String, String, mode: Int = 0o644)
        case directory(String)
        case symlink(String, target: String)
        case hardLink(String, target: String)
        case device(String)
        /// A file whose name is longer than 100 bytes, as GNU tar writes it (`././@LongLink`).
        case longNamedFile(String, String)
    }

    public static func make(_ entries: [Entry], gzipped: Bool = false) throws -> Data {
        var data = Data()
        for entry in entries {
            switch entry {
            case .file(let path, let text, let mode):
                data += self.header(path, type: "0", size: text.utf8.count, mode: mode) + self.padded(Data(text.utf8))
            case .directory(let path):
                data += self.header(path, type: "5", size: 0, mode: 0o755)
            case .symlink(let path, let target):
                data += self.header(path, type: "2", size: 0, mode: 0o777, link: target)
            case .hardLink(let path, let target):
                data += self.header(path, type: "1", size: 0, mode: 0o644, link: target)
            case .device(let path):
                data += self.header(path, type: "3", size: 0, mode: 0o644)
            case .longNamedFile(let path, let text):
                data += self.header("././@LongLink", type: "L", size: path.utf8.count + 1, mode: 0o644) + self.padded(Data(path.utf8) + Data([0]))
                data += self.header(String(path.prefix(99)), type: "0", size: text.utf8.count, mode: 0o644) + self.padded(Data(text.utf8))
            }
        }
        data += Data(count: 1024)
        return gzipped ? try self.gzip(data) : data
    }

    private static func header(_ name: String, type: Character, size: Int, mode: Int, link: String = "") -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            put(String(value, radix: 8).leftPadded(to: width - 1), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        block[156] = type.asciiValue!
        put(link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { block[index] = 32 }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(sum, radix: 8).leftPadded(to: 6) + "\0 ", at: 148, width: 8)
        return Data(block)
    }

    private static func padded(_ data: Data) -> Data {
        data + Data(count: (512 - data.count % 512) % 512)
    }

    private static func gzip(_ data: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        writer.start()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return compressed
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
