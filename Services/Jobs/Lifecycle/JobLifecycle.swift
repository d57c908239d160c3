import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// The one owner of job and run state changes in the jobs service. Controllers, the agent's
/// events and the dispatcher ask it; it applies ``Lifecycle``'s rules through the
/// repository (one transaction each, with its outbox row, and a notification that wakes
/// the leading dispatcher when runs wait for it: ``DispatchChannel``) and wakes the outbox
/// relay when statuses wait.
struct JobLifecycle: Sendable {
    let repository: any JobRepository
    let relay: OutboxRelay

    /// Submits a job: it and its runs become `Pending`. Repeating it changes nothing.
    func submit(jobId: String, owner: String, logger: Logger) async throws -> JobChangeOutcome {
        let outcome = try await self.repository.apply(
            JobChange(jobId: jobId, owner: owner, from: [.created], to: .pending, requested: .pending), logger: logger)
        if case .applied(_, let moved) = outcome, !moved.isEmpty {
            // `Pending` should be in the history when the client hears back; if status is
            // down, the outbox delivers it later.
            await self.relay.deliverPending(within: .seconds(1))
        }
        return outcome
    }

    /// Stops runs (all of the job's when `runs` is `nil`): those not handed to the compute
    /// backend end at once, the others go `Stopping` and the leading dispatcher tells the
    /// backend. A whole job goes `Stopping` (its user asked) until every run ended.
    func stop(jobId: String, owner: String, runs: [String]? = nil, logger: Logger) async throws -> JobChangeOutcome {
        let stopped = RunUpdate(dateCompleted: Date(), reason: Lifecycle.stoppedByUser, succeeded: false)
        let pending = try await self.repository.apply(
            JobChange(jobId: jobId, owner: owner, runs: runs, from: [.pending], to: .completed, update: stopped,
                      requested: runs == nil ? .stopping : nil),
            logger: logger)
        guard case .applied = pending else { return pending }
        let outcome = try await self.repository.apply(
            JobChange(jobId: jobId, owner: owner, runs: runs, from: JobState.dispatched.subtracting([.stopping]), to: .stopping),
            logger: logger)
        await self.relay.wake()
        return outcome
    }

    /// Records what a run's agent reported.
    func record(_ event: RunEvent, jobId: String, runId: String, owner: String, analysisCount: Int, logger: Logger) async throws
        -> JobChangeOutcome {
        let (from, to) = Lifecycle.transition(for: event.type)
        var update = RunUpdate()
        switch event.type {
        case .started, .validated:
            break
        case .executing:
            update.dateStarted = event.runStarted ?? Date()
        case .finished:
            let success = Lifecycle.endReason(failure: event.failure, exitCode: event.exitCode, wasStopping: false, analysisCount: analysisCount)
            let stopped = Lifecycle.endReason(failure: event.failure, exitCode: event.exitCode, wasStopping: true, analysisCount: analysisCount)
            update = RunUpdate(
                dateCompleted: Date(), exitCode: event.exitCode, outputFileCount: event.outputFileCount,
                outputFileSize: event.outputFileSize, reason: success.reason, succeeded: success.succeeded,
                reasonIfStopping: stopped.reason)
        }
        let outcome = try await self.repository.apply(
            JobChange(jobId: jobId, owner: owner, runs: [runId], from: from, to: to, update: update), logger: logger)
        if case .applied(_, let moved) = outcome, !moved.isEmpty {
            await self.relay.wake()
        }
        return outcome
    }

    /// Ends a run its agent will not report on (the backend lost it, or it never started).
    func end(_ run: DispatchedRun, reason: String, logger: Logger) async throws -> JobChangeOutcome {
        let outcome = try await self.repository.apply(
            JobChange(
                jobId: run.jobId, owner: run.owner, runs: [run.runId], from: JobState.endable, to: .completed,
                update: RunUpdate(dateCompleted: Date(), reason: reason, succeeded: false, reasonIfStopping: Lifecycle.stoppedByUser)),
            logger: logger)
        await self.relay.wake()
        return outcome
    }
}
