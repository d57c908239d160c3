/// The operation ran longer than its time limit.
public struct TimeoutError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` after `limit`.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    _ what: String,
    operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(description: "\(what) did not finish within \(limit)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
