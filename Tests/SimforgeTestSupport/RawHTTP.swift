import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client on a raw socket, for what a normal client hides: the
/// interim `100 Continue` of an `Expect: 100-continue` exchange, a client that hangs up,
/// stalls or stops reading.
public enum RawHTTP {
    public struct Reply: Sendable {
        /// What arrived before the body was sent (must be the 100 Continue).
        public var interim: String
        /// The final response, head and body.
        public var final: String
    }

    public struct SocketError: Error { public let what: String }

    /// Sends the head with `Expect: 100-continue`, waits for the interim response (at most
    /// 5 s: without one, nothing comes before the body), then sends the body and reads the
    /// final response.
    public static func exchangeWithExpectContinue(port: Int, path: String, body: Data, extraHeaders: [String] = []) throws -> Reply {
        let fd = try connectedSocket(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let head = (["POST \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Content-Length: \(body.count)",
                     "Expect: 100-continue", "Connection: close"] + extraHeaders).joined(separator: "\r\n") + "\r\n\r\n"
        try send(fd, Data(head.utf8))
        let interim = receive(fd, until: { $0.contains("\r\n\r\n") })
        try send(fd, body)
        timeout.tv_sec = 30
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let final = receive(fd, until: { _ in false })
        return Reply(interim: interim, final: final)
    }

    /// A TCP socket connected to 127.0.0.1:`port`.
    static func connectedSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(what: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw SocketError(what: "connect")
        }
        return fd
    }

    static func send(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw SocketError(what: "send") }
                offset += sent
            }
        }
    }

    /// Reads until `done` says so, the peer closes, or the receive timeout passes.
    private static func receive(_ fd: Int32, until done: (String) -> Bool) -> String {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(String(decoding: received, as: UTF8.self)) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }
}

extension RawHTTP {
    /// Sends a request head and part of its body, then closes the connection: a client
    /// that went away mid-upload.
    public static func sendAndHangUp(port: Int, head: [String], body: Data) throws {
        let fd = try connectedSocket(port: port)
        defer { close(fd) }
        try send(fd, Data((head.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body)
    }
}

extension RawHTTP {
    /// Runs blocking socket work on a thread of its own. Never block a task instead: the
    /// cooperative pool has one thread per core, and the in-process server under test
    /// needs them to answer.
    public static func onThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
    }
}

extension RawHTTP {
    /// What a stalling client saw.
    public struct Stall: Sendable {
        /// Everything the server sent.
        public var reply: String
        /// The server closed the connection (rather than `limit` passing).
        public var closed: Bool
        /// Seconds from the last byte sent to the close (or to `limit`).
        public var seconds: Double
    }

    /// Sends `data`, then nothing more while reading until the server closes the
    /// connection or `limit` seconds pass: a client that stops mid-head or mid-body.
    public static func sendAndStall(port: Int, data: Data, limit: Int) throws -> Stall {
        let fd = try connectedSocket(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try send(fd, data)
        let start = Date()
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date().timeIntervalSince(start) < Double(limit) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                return Stall(reply: String(decoding: received, as: UTF8.self), closed: true, seconds: Date().timeIntervalSince(start))
            }
        }
        return Stall(reply: String(decoding: received, as: UTF8.self), closed: false, seconds: Date().timeIntervalSince(start))
    }
}

extension RawHTTP {
    /// Sends `data`, reads nothing for `seconds`, then hangs up: a client that stops reading.
    public static func sendWithoutReading(port: Int, data: Data, seconds: Int) throws {
        let fd = try connectedSocket(port: port)
        defer { close(fd) }
        try send(fd, data)
        Thread.sleep(forTimeInterval: Double(seconds))
    }
}
