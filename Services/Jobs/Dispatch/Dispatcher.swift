import Foundation
import Logging
import ServiceLifecycle
import SimforgeModels
import SimforgeServer

/// Hands pending jobs to the compute backend (oldest submission first) and moves them to
/// `Queued`; a job the backend refuses ends `Completed` with `Could not start: ...`. At
/// start it reconciles every job the backend had, so a restart of the jobs service loses
/// no job and runs none twice.
struct Dispatcher: Service {
    let repository: any JobRepository
    let backend: any ComputeBackend
    let relay: OutboxRelay
    let tokenSecret: String
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await self.reconcile()
            while (try? await Task.sleep(for: self.interval)) != nil {
                await self.dispatchPending()
            }
        }
    }

    /// One pass over the pending jobs; returns how many it handed over.
    @discardableResult
    func dispatchPending() async -> Int {
        var dispatched = 0
        do {
            for job in try await self.repository.pending(limit: 50, logger: self.logger) {
                let hardware = job.spec.jobanalyses.first?.hardware
                let request = DispatchRequest(
                    jobId: job.id, owner: job.owner, name: job.spec.name, slots: hardware?.slots ?? 1,
                    coresPerSlot: hardware?.coresPerSlot ?? 1, walltimeHours: hardware?.walltime ?? 48,
                    agentToken: JobToken(jobId: job.id, owner: job.owner).mint(secret: self.tokenSecret))
                do {
                    let reference = try await self.backend.dispatch(request, logger: self.logger)
                    _ = try await self.repository.queue(id: job.id, owner: job.owner, backendReference: reference, logger: self.logger)
                    dispatched += 1
                } catch {
                    self.logger.warning("dispatch failed", metadata: ["jobs.id": "\(job.id)", "error": "\(error)"])
                    _ = try await self.repository.transition(
                        id: job.id, owner: job.owner, from: [.pending], to: .completed,
                        reason: "Could not start: the compute backend refused the job", logger: self.logger)
                }
            }
        } catch {
            self.logger.warning("dispatcher pass failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        if dispatched > 0 { await self.relay.deliverPending() }
        return dispatched
    }

    /// Ends the jobs the backend finished or forgot while nobody listened.
    func reconcile() async {
        do {
            for job in try await self.repository.dispatched(logger: self.logger) {
                guard let reference = job.backendReference else { continue }
                let reason: String
                switch try await self.backend.reconcile(reference: reference, logger: self.logger) {
                case .running: continue
                case .finished(let why): reason = why
                case .unknown: reason = "Could not start: the compute backend lost the job"
                }
                _ = try await self.repository.transition(
                    id: job.id, owner: job.owner, from: [.queued, .started, .validated, .executing, .stopping], to: .completed,
                    reason: job.state == .stopping ? "Stopped by user" : reason, logger: self.logger)
            }
            await self.relay.deliverPending()
        } catch {
            self.logger.warning("reconciliation failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
