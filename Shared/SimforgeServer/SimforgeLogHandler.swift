#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Logging

/// The services' log handler: swift-log's `StreamLogHandler` line format on standard output,
/// but metadata is rendered only when a line is written. `StreamLogHandler` renders all of a
/// logger's metadata each time a key is set, and every request sets some (Hummingbird's
/// request id, ours) while few of them log: that was about 4 % of a read route's CPU.
public struct SimforgeLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        print(Self.line(event: event, label: self.label, metadata: self.metadata, provider: self.metadataProvider), terminator: "")
        fflush(stdout)
    }

    /// One log line: `<time> <level> <label>: <key=value ...> [<source>] <message>`.
    static func line(event: LogEvent, label: String, metadata: Logger.Metadata, provider: Logger.MetadataProvider?) -> String {
        var metadata = metadata
        if let provided = provider?.get() {
            metadata.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata {
            metadata.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let rendered = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return "\(Self.timestamp()) \(event.level) \(label):\(rendered) [\(event.source)] \(event.message)\n"
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        var buffer = [Int8](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
