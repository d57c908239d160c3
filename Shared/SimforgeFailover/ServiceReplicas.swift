import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// The base URLs of one service's replicas, as configured: `http://127.0.0.1:8083,http://127.0.0.1:8093`
/// (a single URL is a list of one). Calls between Simforge processes go through no load
/// balancer, so the caller spreads and fails over itself: each call starts at the next
/// replica in turn and moves on to the next one when a replica cannot be connected to. A
/// replica that died costs a refused connection, not a failed call.
public final class ServiceReplicas: Sendable, CustomStringConvertible {
    /// Without a trailing slash, so that `baseURL + "/path"` is the URL of `/path`.
    public let baseURLs: [String]
    private let turn = Atomic<Int>(0)

    /// A list with an entry that is not an `http` or `https` URL with a host.
    public struct InvalidList: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses a comma-separated list of base URLs (spaces around entries are ignored).
    public init(_ list: String) throws(InvalidList) {
        let entries = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var baseURLs: [String] = []
        for entry in entries {
            guard let components = URLComponents(string: entry), ["http", "https"].contains(components.scheme?.lowercased()),
                  let host = components.host, !host.isEmpty
            else { throw InvalidList(description: "'\(entry)' is not an http(s) base URL (in '\(list)')") }
            baseURLs.append(entry.hasSuffix("/") ? String(entry.dropLast()) : entry)
        }
        self.baseURLs = baseURLs
    }

    /// The list as configured, normalized: what to hand on to another process.
    public var description: String { self.baseURLs.joined(separator: ",") }

    /// Every replica once, in the order the next call tries them: each call starts one
    /// further than the previous one.
    private func nextOrder() -> [String] {
        let start = self.turn.wrappingAdd(1, ordering: .relaxed).oldValue
        let count = self.baseURLs.count
        return (0..<count).map { self.baseURLs[(start % count + count + $0) % count] }
    }

    /// Runs `attempt` (one HTTP exchange: send the request, receive the answer) on each
    /// replica in turn until one completes; its result. A replica that failed before the
    /// request was sent (``ConnectionFailure/neverSent(_:)``) is always skipped. One that
    /// failed after is skipped only for `GET` and `HEAD`: anything else may have taken
    /// effect there, and sending it again would do it twice. When every replica failed,
    /// throws the last failure.
    ///
    /// Only transport failures should be thrown by `attempt`: an HTTP error status is an
    /// answer, which the caller judges after this returns.
    public func withFailover<Result>(
        method: HTTPMethod, logger: Logger, _ attempt: (_ baseURL: String) async throws -> Result
    ) async throws -> Result {
        let resendable = method == .GET || method == .HEAD
        let order = self.nextOrder()
        for (index, baseURL) in order.enumerated() {
            do {
                return try await attempt(baseURL)
            } catch {
                guard index < order.count - 1, !Task.isCancelled, resendable || ConnectionFailure.neverSent(error) else { throw error }
                logger.warning("replica failed, trying the next one", metadata: ["replica.url": "\(baseURL)", "error": "\(error)"])
            }
        }
        preconditionFailure("a list of replicas is never empty")
    }
}
