import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle
import SimforgeModels
import SimforgeServer

/// Delivers the outbox to the status service, oldest first, so each job's history arrives
/// in order. Every replica runs a relay; a pass holds the outbox's claim in PostgreSQL, so
/// one pass runs at a time across all of them (and within one: the actor is not entered
/// twice, as the claim is taken without waiting, or within a request's bound). The status
/// service stores events by id, so a redelivery after a failure is harmless; a failure
/// stops the pass (nothing is skipped) and the next pass retries. Delivered rows are pruned
/// to the last ``outboxTail`` now and then.
actor OutboxRelay {
    private let repository: any JobRepository
    private let status: InternalClient
    private let logger: Logger
    /// Rung when rows were written, so the relay delivers them at once.
    let bell = Doorbell()
    /// Until when a request does not wait for delivery: a pass failed just before, status
    /// is not reachable (the outbox keeps the rows for the next pass).
    private var unreachableUntil = ContinuousClock.now
    private var lastPrune = ContinuousClock.now
    private static let pruneInterval = Duration.seconds(30)

    init(repository: any JobRepository, status: InternalClient, logger: Logger) {
        self.repository = repository
        self.status = status
        self.logger = logger
    }

    /// Delivers everything pending, waiting up to `wait` for another replica's pass to end;
    /// how the pass ended.
    @discardableResult
    func deliverPending(waitingUpTo wait: Duration = .zero) async -> RelayPass {
        let prune = ContinuousClock.now - self.lastPrune >= Self.pruneInterval
        do {
            let pass = try await self.repository.relayOutbox(waitingUpTo: wait, prune: prune, logger: self.logger) { group in
                try await self.deliver(group)
            }
            if prune, pass != .busy { self.lastPrune = .now }
            if pass == .failed { self.unreachableUntil = .now + .seconds(5) }
            return pass
        } catch {
            // Shutting down (or a bounded pass that ran out of time): the next pass delivers.
            guard !Task.isCancelled else { return .failed }
            self.logger.warning("outbox relay pass failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            return .failed
        }
    }

    /// Asks for a pass soon, without waiting for it.
    nonisolated func wake() async {
        await self.bell.ring()
    }

    /// A pass bounded in time, for a request whose event should be in the history when it
    /// answers (create, submit): it waits for the status service at most `limit`, and not
    /// at all while status is known to be unreachable (then the outbox alone delivers).
    nonisolated func deliverPending(within limit: Duration) async {
        guard await self.statusReachable else {
            await self.wake()
            return
        }
        _ = try? await withTimeout(limit, "outbox delivery") { await self.deliverPending(waitingUpTo: limit) }
    }

    private var statusReachable: Bool {
        ContinuousClock.now >= self.unreachableUntil
    }

    private nonisolated func deliver(_ batch: [OutboxEntry]) async throws {
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

/// Runs relay passes for the life of the service: at once when woken, else every 250 ms
/// while deliveries succeed, backing off up to 5 s while the status service is unreachable.
struct OutboxRelayService: Service {
    let relay: OutboxRelay

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var pause = Duration.milliseconds(250)
            while !Task.isCancelled {
                await self.relay.bell.wait(upTo: pause)
                guard !Task.isCancelled else { return }
                switch await self.relay.deliverPending() {
                case .drained: pause = .milliseconds(250)
                // Another replica's pass may have missed rows committed while it ran.
                case .busy: pause = .milliseconds(50)
                case .failed: pause = min(pause * 2, .seconds(5))
                }
            }
        }
    }
}
