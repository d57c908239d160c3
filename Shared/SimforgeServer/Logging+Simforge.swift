import Logging

extension Logger {
    /// The process's root logger, labelled with the service name, at the `LOG_LEVEL`
    /// environment level (default `info`). Call once, in the executable's `main`.
    public static func simforgeRoot(label: String, environment: EnvironmentReader) throws -> Logger {
        let levelName = environment.string("LOG_LEVEL", default: "info")
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ConfigurationError("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue)), got '\(levelName)'")
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
