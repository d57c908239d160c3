import AsyncHTTPClient
import NIOCore

extension HTTPClient.Configuration {
    /// For calls from one Simforge process (a service or an agent) to a service's replicas
    /// (``ServiceReplicas``):
    /// - a connection that cannot be made fails the requests waiting for it at once, with
    ///   the connect error (``ConnectionFailure/neverSent(_:)``), and the call moves on to
    ///   the next replica. By default AsyncHTTPClient would retry a refused connection until
    ///   the connect timeout: every call starting at a dead replica would wait that long.
    /// - keep-alive connections are dropped after `idle`, before the service closes them (it
    ///   closes a connection idle past its header timeout, `HTTP_HEADER_TIMEOUT_SECONDS`,
    ///   30 s by default), so no request is sent on a connection being closed.
    public static func simforgeInternal(connect: Duration, read: Duration? = nil, idle: Duration = .seconds(10)) -> Self {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .init(connect), read: read.map(TimeAmount.init)))
        configuration.connectionPool.idleTimeout = TimeAmount(idle)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}
