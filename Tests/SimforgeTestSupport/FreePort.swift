import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that was free a moment ago, for a child process to listen on.
public enum FreePort {
    public static func next() throws -> Int {
        let port = try DeadPort()
        port.release()
        return port.port
    }
}

/// A loopback port bound but never listened on: a connection to it is refused at once, as
/// to a replica that was killed, and no other test (tests run in parallel) can take it
/// while it is held.
public final class DeadPort: Sendable {
    public let port: Int
    private let descriptor: Mutex<Int32?>
    /// Dead ports held until the test process ends.
    private static let forever = Mutex<[DeadPort]>([])

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw RawHTTP.SocketError(what: "bind")
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = Mutex(fd)
    }

    /// A dead port's URL, the port held for the rest of the test run.
    public static func url(host: String = "127.0.0.1") throws -> String {
        let dead = try DeadPort()
        Self.forever.withLock { $0.append(dead) }
        return "http://\(host):\(dead.port)"
    }

    /// Frees the port, for a server about to listen on it.
    public func release() {
        self.descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit {
        self.release()
    }
}

/// A child process that is always ended, and its peak memory.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()

    public init(executable: URL, environment: [String: String], logFile: URL) throws {
        self.process.executableURL = executable
        self.process.environment = environment
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()
    }

    /// Peak resident set size (`VmHWM`) in bytes.
    public func peakResidentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(self.process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
        else { throw RawHTTP.SocketError(what: "VmHWM not found") }
        return kilobytes * 1024
    }

    public func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
    }

    deinit { self.stop() }
}
