import Foundation
import Logging
import ServiceLifecycle
import SimforgeProcess

/// The default compute backend: agents run as processes on this host, at most `slots` at
/// a time; the other jobs wait (`Queued`) in submission order. An agent runs in a session
/// of its own, so it outlives a restart of the jobs service; the restarted service finds
/// it again by its command line (`simforge-agent <jobId>`) and counts it against the slots.
actor LocalBackend: ComputeBackend {
    let launch: AgentLaunch
    let slots: Int
    let logger: Logger

    /// An agent started by this process (a child, reaped here) or found running after a
    /// restart (`process == nil`: watched by its pid).
    private struct Agent {
        var pid: pid_t
        var process: SpawnedProcess?
    }

    /// Jobs waiting for a slot, with their agent's environment.
    private var waiting: [(job: DispatchRequest, environment: [String: String])] = []
    private var running: [String: Agent] = [:]
    /// Jobs whose agent ended (or could not start) since; why, for ``reconcile``.
    private var ended: [String: String] = [:]

    init(launch: AgentLaunch, slots: Int, logger: Logger) {
        self.launch = launch
        self.slots = slots
        self.logger = logger
    }

    func dispatch(_ job: DispatchRequest, logger: Logger) async throws -> String {
        let environment = try await self.launch.environment(for: job)
        self.ended[job.jobId] = nil
        self.waiting.append((job, environment))
        self.startWaiting()
        return "local"
    }

    func cancel(jobId: String, reference: String, logger: Logger) async throws -> CancelOutcome {
        if let index = self.waiting.firstIndex(where: { $0.job.jobId == jobId }) {
            self.waiting.remove(at: index)
            return .ended
        }
        guard let agent = self.running[jobId] ?? self.adopt(jobId) else { return .ended }
        // The agent alone: it ends the command's process group itself, then reports.
        kill(agent.pid, SIGTERM)
        return .signalled
    }

    func reconcile(jobId: String, reference: String, logger: Logger) async throws -> BackendJobState {
        self.superviseOnce()
        if self.waiting.contains(where: { $0.job.jobId == jobId }) { return .queued }
        if self.running[jobId] != nil || self.adopt(jobId) != nil { return .running }
        if let what = self.ended.removeValue(forKey: jobId) { return .ended(what) }
        return .unknown
    }

    /// Reaps ended agents and starts waiting jobs in the freed slots, until cancelled.
    func supervise() async {
        while !Task.isCancelled {
            self.superviseOnce()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func superviseOnce() {
        for (jobId, agent) in self.running {
            if let process = agent.process {
                guard let termination = process.poll() else { continue }
                self.running[jobId] = nil
                if termination == .exited(0) {
                    try? FileManager.default.removeItem(atPath: self.logPath(jobId))
                } else {
                    self.ended[jobId] = "the job's agent ended with code \(termination.exitCode)"
                    self.logger.warning("agent failed", metadata: ["jobs.id": "\(jobId)", "agent.log": "\(self.logPath(jobId))"])
                }
            } else if !SpawnedProcess.isRunning(pid: agent.pid) {
                self.running[jobId] = nil
                self.ended[jobId] = "the job's agent ended without reporting"
            }
        }
        self.startWaiting()
    }

    private func startWaiting() {
        while self.running.count < self.slots, !self.waiting.isEmpty {
            let (job, environment) = self.waiting.removeFirst()
            do {
                try FileManager.default.createDirectory(atPath: self.launch.logDirectory, withIntermediateDirectories: true)
                let log = open(self.logPath(job.jobId), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                defer { if log >= 0 { close(log) } }
                let process = try SpawnedProcess.spawn(
                    executable: self.launch.executable, arguments: [job.jobId], environment: environment,
                    output: log >= 0 ? log : nil)
                self.running[job.jobId] = Agent(pid: process.pid, process: process)
                self.logger.info("agent started", metadata: ["jobs.id": "\(job.jobId)", "agent.pid": "\(process.pid)"])
            } catch {
                self.logger.error("agent could not start", metadata: ["jobs.id": "\(job.jobId)", "error": "\(error)"])
                self.ended[job.jobId] = "the job's agent could not be started"
            }
        }
    }

    private func logPath(_ jobId: String) -> String {
        self.launch.logDirectory + "/\(jobId).log"
    }

    /// Finds a running agent for the job that this process did not start (it ran before a
    /// restart), and counts it from now on.
    private func adopt(_ jobId: String) -> Agent? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count == 2, arguments[1] == jobId, arguments[0].hasSuffix("simforge-agent"),
                  SpawnedProcess.isRunning(pid: pid)
            else { continue }
            let agent = Agent(pid: pid, process: nil)
            self.running[jobId] = agent
            self.logger.info("agent adopted", metadata: ["jobs.id": "\(jobId)", "agent.pid": "\(pid)"])
            return agent
        }
        return nil
    }
}

/// Runs ``LocalBackend/supervise()`` beside the jobs service.
struct LocalBackendService: Service {
    let backend: LocalBackend

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.backend.supervise()
        }
    }
}
