import Foundation
import Logging
import ServiceLifecycle
import SimforgeModels
import SimforgeServer

/// Hands pending runs to the compute backend (oldest submission first) as soon as they are
/// submitted; runs the backend refuses end `Could not start: ...`. Tells the backend to
/// stop runs being stopped. Every `reconcileInterval` it asks the backend about every run it
/// has, so that a restart of the jobs service loses no run and runs none twice: a queued run
/// the backend forgot is handed over again, a run that ended without its agent's report ends
/// with the backend's reason, and a run whose agent stopped sending heartbeats for
/// `heartbeatTimeout` ends as lost.
///
/// Every replica runs one; only the leader (``LeaderLease``) works, woken through
/// ``DispatchChannel`` by the replica that changed runs. A new leader first gives every
/// running agent a full heartbeat timeout (they may have been retrying while no replica
/// listened) and reconciles.
struct Dispatcher: Service {
    let repository: any JobRepository
    let lifecycle: JobLifecycle
    let backend: any ComputeBackend
    let lease: LeaderLease
    /// Rung by ``DispatchChannel``'s notifications.
    let doorbell: Doorbell
    let tokenSecret: String
    /// The site's limit on any run's walltime (`JOBS_WALLTIME_LIMIT_SECONDS`).
    let walltimeLimitSeconds: Int?
    let heartbeatTimeout: Duration
    let reconcileInterval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.lease.run { await self.lead() }
        }
    }

    /// The leader's work, until cancelled (shutdown, or the lease was lost).
    func lead() async {
        do {
            try await self.repository.restartAgentWatch(logger: self.logger)
        } catch {
            self.logger.warning("could not restart the agents' watch", metadata: ["error": "\(String(reflecting: error))"])
        }
        await self.reconcile()
        var lastReconciliation = ContinuousClock.now
        while !Task.isCancelled {
            await self.dispatchPending()
            await self.signalStopping()
            if ContinuousClock.now - lastReconciliation >= self.reconcileInterval {
                await self.reconcile()
                await self.endSilentRuns()
                lastReconciliation = ContinuousClock.now
            }
            await self.doorbell.wait(upTo: .seconds(1))
        }
        await self.backend.resign(logger: self.logger)
    }

    /// Passes over the pending runs until none is left to hand over; returns how many it handed over.
    @discardableResult
    func dispatchPending() async -> Int {
        var dispatched = 0
        do {
            while true {
                let claimed = try await self.repository.claimPendingRuns(
                    limit: 20, slotsLimitRuns: !self.backend.limitsSlots, logger: self.logger)
                if claimed.isEmpty { break }
                for work in claimed {
                    dispatched += await self.handOver(work)
                }
                await self.lifecycle.relay.wake()
            }
        } catch {
            guard !Task.isCancelled else { return dispatched }
            self.logger.warning("dispatcher pass failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        return dispatched
    }

    /// Gives claimed runs (already `Queued`) to the backend; a refusal ends them.
    private func handOver(_ work: DispatchWork) async -> Int {
        let request = self.request(for: work.job, runs: work.runs)
        do {
            let references = try await self.backend.dispatch(request, logger: self.logger)
            try await self.repository.setBackendReferences(jobId: work.job.id, references: references, logger: self.logger)
            return work.runs.count
        } catch {
            self.logger.warning("dispatch failed", metadata: ["jobs.id": "\(work.job.id)", "error": "\(error)"])
            for runId in work.runs {
                let run = DispatchedRun(jobId: work.job.id, owner: work.job.owner, runId: runId, state: .queued, backendReference: nil)
                _ = try? await self.lifecycle.end(run, reason: "Could not start: the compute backend refused the run", logger: self.logger)
            }
            return 0
        }
    }

    /// Settles every dispatched run with what the backend knows of it.
    func reconcile() async {
        do {
            let runs = try await self.repository.dispatchedRuns(logger: self.logger)
            let known = runs.filter { $0.backendReference != nil }
            let states = known.isEmpty ? [] : try await self.backend.reconcile(
                known.map { (RunAddress(jobId: $0.jobId, runId: $0.runId), $0.backendReference!) }, logger: self.logger)
            // No reference: the service stopped between queueing the run and handing it over.
            let unreferenced = runs.filter { $0.backendReference == nil }.map { ($0, BackendRunState.unknown) }
            for (run, state) in Array(zip(known, states)) + unreferenced {
                do {
                    try await self.settle(run, state)
                } catch {
                    // One run the backend cannot answer for does not hold up the others.
                    guard !Task.isCancelled else { return }
                    self.logger.warning("reconciliation of a run failed", metadata: [
                        "jobs.id": "\(run.jobId)", "jobs.run": "\(run.runId)", "error": "\(error)",
                    ])
                }
            }
        } catch {
            guard !Task.isCancelled else { return }
            self.logger.warning("reconciliation failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func settle(_ run: DispatchedRun, _ state: BackendRunState) async throws {
        switch state {
        case .queued, .running:
            return
        case .ended(let what):
            try await self.end(run, reason: run.state == .queued ? "Could not start: \(what)" : "Lost: \(what)")
        case .exceededWalltime:
            try await self.end(run, reason: "Exceeded walltime")
        case .elsewhere where run.state == .queued, .unknown where run.state == .queued:
            // Never started (its agent would have reported): hand it over again.
            guard let job = try await self.repository.job(id: run.jobId, owner: run.owner, logger: self.logger) else { return }
            let references = try await self.backend.dispatch(self.request(for: job, runs: [run.runId]), logger: self.logger)
            try await self.repository.setBackendReferences(jobId: run.jobId, references: references, logger: self.logger)
            self.logger.info("run dispatched again", metadata: ["jobs.id": "\(run.jobId)", "jobs.run": "\(run.runId)"])
        case .unknown:
            try await self.end(run, reason: "Lost: the compute backend no longer knows the run")
        case .elsewhere:
            // Its heartbeats say whether it lives (``endSilentRuns()``).
            return
        }
    }

    /// Tells the backend to stop the runs being stopped (by a request to any replica); a
    /// run that never started ends at once.
    func signalStopping() async {
        do {
            for run in try await self.repository.unsignalledStoppingRuns(logger: self.logger) {
                do {
                    let outcome = try await self.backend.cancel(
                        run: RunAddress(jobId: run.jobId, runId: run.runId), reference: run.backendReference!, logger: self.logger)
                    try await self.repository.markStopSignalled(run, logger: self.logger)
                    if outcome == .ended { _ = try await self.lifecycle.end(run, reason: Lifecycle.stoppedByUser, logger: self.logger) }
                } catch {
                    guard !Task.isCancelled else { return }
                    self.logger.warning("stop not signalled; will retry", metadata: [
                        "jobs.id": "\(run.jobId)", "jobs.run": "\(run.runId)", "error": "\(error)",
                    ])
                }
            }
        } catch {
            guard !Task.isCancelled else { return }
            self.logger.warning("stop pass failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Ends the running runs whose agent stopped sending heartbeats.
    func endSilentRuns() async {
        do {
            for run in try await self.repository.silentRuns(for: self.heartbeatTimeout, logger: self.logger) {
                if let reference = run.backendReference {
                    _ = try? await self.backend.cancel(
                        run: RunAddress(jobId: run.jobId, runId: run.runId), reference: reference, logger: self.logger)
                }
                try await self.end(run, reason: "Lost: the run's agent stopped reporting")
            }
        } catch {
            guard !Task.isCancelled else { return }
            self.logger.warning("heartbeat check failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func end(_ run: DispatchedRun, reason: String) async throws {
        self.logger.warning("run ended without its agent's report", metadata: [
            "jobs.id": "\(run.jobId)", "jobs.run": "\(run.runId)", "reason": "\(reason)",
        ])
        _ = try await self.lifecycle.end(run, reason: reason, logger: self.logger)
    }

    private func request(for job: StoredJob, runs: [String]) -> DispatchRequest {
        let analyses = job.spec.jobanalyses
        let walltime = (analyses.compactMap(\.hardware.walltime).max() ?? 48) * 3600
        return DispatchRequest(
            jobId: job.id, owner: job.owner, name: job.spec.name, runs: runs, slots: analyses.first?.hardware.slots ?? 1,
            coresPerRun: analyses.map(\.hardware.coresPerSlot).max() ?? 1,
            walltimeSeconds: self.walltimeLimitSeconds.map { min($0, walltime) } ?? walltime,
            agentToken: JobToken(jobId: job.id, owner: job.owner).mint(secret: self.tokenSecret))
    }
}
