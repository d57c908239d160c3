import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// How AsyncHTTPClient (1.37) reports a request it never sent because no connection could
/// be made. A client configured by `HTTPClient.Configuration.simforgeInternal` gets the
/// connection's own error at once, as the pool does not retry the connection.
public enum ConnectionFailure {
    /// `true` when `error` proves the request never left this process, so another replica
    /// may be sent it whatever its method.
    ///
    /// - `NIOConnectionError`: a host name whose every address failed to connect, or that
    ///   did not resolve (NIO's happy eyeballs, for names such as `localhost` or `jobs`).
    /// - `IOError` with a connect-only errno: an IP address that refused the connection or
    ///   cannot be routed to (`ECONNRESET` and `ETIMEDOUT` are left out: an open connection
    ///   fails with them too, perhaps after the request was written).
    /// - `HTTPClientError.connectTimeout`, `ChannelError.connectTimeout`: no answer to the
    ///   connection attempt (AsyncHTTPClient turns the second into the first).
    /// - `HTTPClientError.getConnectionFromPoolTimeout`: the request's deadline passed while
    ///   it waited in the pool for a connection.
    public static func neverSent(_ error: any Error) -> Bool {
        switch error {
        case is NIOConnectionError:
            return true
        case let error as IOError:
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        case let error as HTTPClientError:
            return error == .connectTimeout || error == .getConnectionFromPoolTimeout
        case ChannelError.connectTimeout:
            return true
        default:
            return false
        }
    }
}
