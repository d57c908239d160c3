import Foundation
import Logging
import ServiceLifecycle
import SimforgeModels
import SimforgeServer

/// Hands pending jobs to the compute backend (oldest submission first) as soon as they are
/// submitted, and moves them to `Queued`; a job the backend refuses ends `Completed` with
/// `Could not start: ...`. At start, and every `reconcileInterval` after, it asks the
/// backend about every job it has, so that a restart of the jobs service loses no job and
/// runs none twice: a queued job the backend forgot is handed over again, a job that ended
/// without its agent's report ends with the backend's reason, and a job whose agent
/// stopped sending heartbeats for `heartbeatTimeout` ends as lost.
struct Dispatcher: Service {
    let repository: any JobRepository
    let backend: any ComputeBackend
    let relay: OutboxRelay
    let doorbell: Doorbell
    let tokenSecret: String
    /// The site's limit on any job's walltime (`JOBS_WALLTIME_LIMIT_SECONDS`).
    let walltimeLimitSeconds: Int?
    let heartbeatTimeout: Duration
    let reconcileInterval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reconcile()
            var lastReconciliation = ContinuousClock.now
            while !Task.isCancelled {
                await self.doorbell.wait(upTo: .seconds(1))
                await self.dispatchPending()
                if ContinuousClock.now - lastReconciliation >= self.reconcileInterval {
                    await self.reconcile()
                    await self.endSilentJobs()
                    lastReconciliation = ContinuousClock.now
                }
            }
        }
    }

    /// One pass over the pending jobs; returns how many it handed over.
    @discardableResult
    func dispatchPending() async -> Int {
        var dispatched = 0
        do {
            for job in try await self.repository.pending(limit: 50, logger: self.logger) {
                // Queued before the backend has it: its agent may report Started at once.
                guard case .moved = try await self.repository.queue(id: job.id, owner: job.owner, logger: self.logger) else { continue }
                do {
                    let reference = try await self.backend.dispatch(self.request(for: job), logger: self.logger)
                    try await self.repository.setBackendReference(id: job.id, reference: reference, logger: self.logger)
                    dispatched += 1
                } catch {
                    self.logger.warning("dispatch failed", metadata: ["jobs.id": "\(job.id)", "error": "\(error)"])
                    _ = try await self.repository.transition(
                        id: job.id, owner: job.owner, from: [.queued], to: .completed,
                        reason: "Could not start: the compute backend refused the job", logger: self.logger)
                }
            }
        } catch {
            guard !Task.isCancelled else { return dispatched }
            self.logger.warning("dispatcher pass failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        if dispatched > 0 { await self.relay.deliverPending() }
        return dispatched
    }

    /// Settles every dispatched job with what the backend knows of it.
    func reconcile() async {
        do {
            for job in try await self.repository.dispatched(logger: self.logger) {
                do {
                    try await self.reconcile(job)
                } catch {
                    // One job the backend cannot answer for does not hold up the others.
                    guard !Task.isCancelled else { return }
                    self.logger.warning("reconciliation of a job failed", metadata: ["jobs.id": "\(job.id)", "error": "\(error)"])
                }
            }
        } catch {
            guard !Task.isCancelled else { return }
            self.logger.warning("reconciliation failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        await self.relay.deliverPending()
    }

    private func reconcile(_ job: StoredJob) async throws {
        // No reference: the service stopped between queueing the job and handing it over.
        var state = BackendJobState.unknown
        if let reference = job.backendReference {
            state = try await self.backend.reconcile(jobId: job.id, reference: reference, logger: self.logger)
        }
        switch state {
        case .queued, .running:
            return
        case .ended(let what):
            try await self.end(job, reason: job.state == .queued ? "Could not start: \(what)" : "Lost: \(what)")
        case .exceededWalltime:
            try await self.end(job, reason: "Exceeded walltime")
        case .unknown where job.state == .queued:
            // Never started (its agent would have reported): hand it over again.
            let reference = try await self.backend.dispatch(self.request(for: job), logger: self.logger)
            try await self.repository.setBackendReference(id: job.id, reference: reference, logger: self.logger)
            self.logger.info("job dispatched again", metadata: ["jobs.id": "\(job.id)"])
        case .unknown:
            try await self.end(job, reason: "Lost: the compute backend no longer knows the job")
        }
    }

    /// Ends the running jobs whose agent stopped sending heartbeats.
    func endSilentJobs() async {
        do {
            for job in try await self.repository.silent(for: self.heartbeatTimeout, logger: self.logger) {
                if let reference = job.backendReference {
                    _ = try? await self.backend.cancel(jobId: job.id, reference: reference, logger: self.logger)
                }
                try await self.end(job, reason: "Lost: the job's agent stopped reporting")
            }
        } catch {
            guard !Task.isCancelled else { return }
            self.logger.warning("heartbeat check failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        await self.relay.deliverPending()
    }

    private func end(_ job: StoredJob, reason: String) async throws {
        self.logger.warning("job ended without its agent's report", metadata: ["jobs.id": "\(job.id)", "reason": "\(reason)"])
        _ = try await self.repository.transition(
            id: job.id, owner: job.owner, from: [.queued, .started, .validated, .executing, .stopping], to: .completed,
            reason: job.state == .stopping ? "Stopped by user" : reason, logger: self.logger)
    }

    private func request(for job: StoredJob) -> DispatchRequest {
        let hardware = job.spec.jobanalyses.first?.hardware
        let walltime = (hardware?.walltime ?? 48) * 3600
        return DispatchRequest(
            jobId: job.id, owner: job.owner, name: job.spec.name, slots: hardware?.slots ?? 1, coresPerSlot: hardware?.coresPerSlot ?? 1,
            walltimeSeconds: self.walltimeLimitSeconds.map { min($0, walltime) } ?? walltime,
            agentToken: JobToken(jobId: job.id, owner: job.owner).mint(secret: self.tokenSecret))
    }
}

/// Wakes the dispatcher when a job is submitted, so it need not poll the table often.
actor Doorbell {
    private var rung = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var nextId = 0

    func ring() {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume()
        } else {
            self.rung = true
        }
    }

    /// Returns when rung (at once if it was rung since the last wait), or after `timeout`.
    func wait(upTo timeout: Duration) async {
        if self.rung {
            self.rung = false
            return
        }
        self.nextId += 1
        let id = self.nextId
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        await withCheckedContinuation { self.waiter = (id, $0) }
        timer.cancel()
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }
}
