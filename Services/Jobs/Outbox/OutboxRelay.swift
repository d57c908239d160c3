import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle
import SimforgeModels
import SimforgeServer

/// Delivers the outbox to the status service, oldest first, so each job's history arrives
/// in order. The status service stores events by id, so a redelivery after a failure is
/// harmless; a failure stops the pass (nothing is skipped) and the next pass retries.
/// One actor: a pass never runs twice at once.
actor OutboxRelay {
    private let repository: any JobRepository
    private let status: InternalClient
    private let logger: Logger

    init(repository: any JobRepository, status: InternalClient, logger: Logger) {
        self.repository = repository
        self.status = status
        self.logger = logger
    }

    /// Delivers everything pending; `true` when the outbox is empty afterwards.
    @discardableResult
    func deliverPending() async -> Bool {
        do {
            while true {
                let entries = try await self.repository.undelivered(limit: 200, logger: self.logger)
                if entries.isEmpty { return true }
                var index = entries.startIndex
                while index < entries.endIndex {
                    // Consecutive status events travel together.
                    var end = index + 1
                    if entries[index].kind == .status {
                        while end < entries.endIndex, entries[end].kind == .status { end += 1 }
                    }
                    let batch = Array(entries[index..<end])
                    try await self.deliver(batch)
                    try await self.repository.markDelivered(batch.map(\.sequence), logger: self.logger)
                    index = end
                }
            }
        } catch {
            // Shutting down (or a bounded pass that ran out of time): the next pass delivers.
            guard !Task.isCancelled else { return false }
            self.logger.warning("outbox delivery failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }

    /// A pass bounded in time, for a request that wants its event in the history before it
    /// answers but must not hang when the status service is down (the outbox keeps it).
    nonisolated func deliverPending(within limit: Duration) async {
        _ = try? await withTimeout(limit, "outbox delivery") { await self.deliverPending() }
    }

    private func deliver(_ batch: [OutboxEntry]) async throws {
        let decoder = JSONDecoder.simforge()
        switch batch[0].kind {
        case .status:
            let events = try batch.map { try decoder.decode(JobStatusEvent.self, from: $0.payload) }
            try await self.status.send("/internal/statuses", method: .POST, json: events, logger: self.logger)
        case .register:
            let registration = try decoder.decode(JobRegistration.self, from: batch[0].payload)
            try await self.status.send("/internal/jobs/\(registration.jobId)", method: .PUT, json: registration, logger: self.logger)
        case .forget:
            try await self.status.send("/internal/jobs/\(batch[0].jobId)", method: .DELETE, logger: self.logger)
        }
    }
}

/// Runs relay passes for the life of the service: every 250 ms while deliveries succeed,
/// backing off up to 5 s while the status service is unreachable.
struct OutboxRelayService: Service {
    let relay: OutboxRelay

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var pause = Duration.milliseconds(250)
            while (try? await Task.sleep(for: pause)) != nil {
                pause = await self.relay.deliverPending() ? .milliseconds(250) : min(pause * 2, .seconds(5))
            }
        }
    }
}
