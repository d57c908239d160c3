import SimforgeServer

extension HTTPServerConfiguration {
    /// Loopback, on `port` (0: a free one), for a service under a live test. HummingbirdTesting's
    /// live client keeps one connection for the whole test and never reconnects, while the
    /// header timeout also ends keep-alive connections idle between requests: it is long here,
    /// for tests that leave a client idle while a job runs.
    public static func loopback(port: Int = 0) -> HTTPServerConfiguration {
        HTTPServerConfiguration(host: "127.0.0.1", port: port, headerTimeout: .seconds(600))
    }
}
