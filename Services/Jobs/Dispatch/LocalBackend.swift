import Foundation
import Logging
import ServiceLifecycle
import SimforgeProcess

/// The default compute backend: each run's agent is a process on this host. It counts
/// cores, not runs: a run starts once its cores are free (`cores` in all, the machine's
/// by default), the others wait (`Queued`) in the order they came. An agent runs in a
/// session of its own, so it outlives a restart of the jobs service; the restarted service
/// (or another replica on the same host that leads now) finds it again by its command line
/// (`simforge-agent <jobId> <runId>`) and counts its cores. A run's reference,
/// `local/<host>/<cores>`, names the host whose processes it is among: a replica on
/// another host (another container) cannot see them (``BackendRunState/elsewhere``).
actor LocalBackend: ComputeBackend {
    let launch: AgentLaunch
    let cores: Int
    let logger: Logger

    /// An agent started by this process (a child, reaped here) or found running after a
    /// restart (`process == nil`: watched by its pid).
    private struct Agent {
        var pid: pid_t
        var process: SpawnedProcess?
        var cores: Int
    }

    private struct Waiting {
        var run: RunAddress
        var cores: Int
        var environment: [String: String]
    }

    /// Runs waiting for their cores, with their agent's environment.
    private var waiting: [Waiting] = []
    private var running: [RunAddress: Agent] = [:]
    /// Runs whose agent ended (or could not start) since; why, for ``reconcile(_:logger:)``.
    private var ended: [RunAddress: String] = [:]

    /// This host's name in references: the kernel's host name (a container's own).
    let host: String

    init(launch: AgentLaunch, cores: Int, host: String = ProcessInfo.processInfo.hostName, logger: Logger) {
        self.launch = launch
        self.cores = cores
        self.host = host.isEmpty ? "localhost" : host
        self.logger = logger
    }

    nonisolated var limitsSlots: Bool { false }

    nonisolated func maxCoresPerRun(logger: Logger) async throws -> Int {
        self.cores
    }

    func dispatch(_ request: DispatchRequest, logger: Logger) async throws -> [String: String] {
        let environment = try await self.launch.environment(for: request)
        var references: [String: String] = [:]
        for runId in request.runs {
            let run = RunAddress(jobId: request.jobId, runId: runId)
            self.ended[run] = nil
            self.waiting.append(Waiting(run: run, cores: request.coresPerRun, environment: environment))
            references[runId] = "local/\(self.host)/\(request.coresPerRun)"
        }
        self.startWaiting()
        return references
    }

    func cancel(run: RunAddress, reference: String, logger: Logger) async throws -> CancelOutcome {
        if let index = self.waiting.firstIndex(where: { $0.run == run }) {
            self.waiting.remove(at: index)
            self.startWaiting()
            return .ended
        }
        // Its agent hears of the stop with its next heartbeat.
        guard self.isHere(reference) else { return .signalled }
        guard let agent = self.running[run] ?? self.adopt(run, reference: reference) else { return .ended }
        // The agent alone: it ends its steps' process group itself, then reports.
        kill(agent.pid, SIGTERM)
        return .signalled
    }

    func reconcile(_ runs: [(run: RunAddress, reference: String)], logger: Logger) async throws -> [BackendRunState] {
        self.superviseOnce()
        return runs.map { run, reference in
            if self.waiting.contains(where: { $0.run == run }) { return .queued }
            if self.running[run] != nil || self.adopt(run, reference: reference) != nil { return .running }
            if let what = self.ended.removeValue(forKey: run) { return .ended(what) }
            return self.isHere(reference) ? .unknown : .elsewhere
        }
    }

    func resign(logger: Logger) async {
        if !self.waiting.isEmpty {
            logger.info("no longer leading: runs waiting for cores are left to the next leader", metadata: ["runs": "\(self.waiting.count)"])
        }
        self.waiting.removeAll()
    }

    /// Whether a reference is of this host (references from before hosts were named are).
    private func isHere(_ reference: String) -> Bool {
        let parts = reference.split(separator: "/")
        return parts.count < 3 || parts[1] == self.host
    }

    /// Reaps ended agents and starts waiting runs on the freed cores, until cancelled.
    func supervise() async {
        while !Task.isCancelled {
            self.superviseOnce()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Cores of the running agents.
    var coresInUse: Int {
        self.running.values.reduce(0) { $0 + $1.cores }
    }

    private func superviseOnce() {
        for (run, agent) in self.running {
            if let process = agent.process {
                guard let termination = process.poll() else { continue }
                self.running[run] = nil
                if termination == .exited(0) {
                    try? FileManager.default.removeItem(atPath: self.logPath(run))
                } else {
                    self.ended[run] = "the run's agent ended with code \(termination.exitCode)"
                    self.logger.warning("agent failed", metadata: ["jobs.run": "\(run)", "agent.log": "\(self.logPath(run))"])
                }
            } else if !SpawnedProcess.isRunning(pid: agent.pid) {
                self.running[run] = nil
                self.ended[run] = "the run's agent ended without reporting"
            }
        }
        self.startWaiting()
    }

    /// Starts waiting runs in order while the first one's cores are free (a big run is not
    /// overtaken for ever by small ones).
    private func startWaiting() {
        while let next = self.waiting.first, self.coresInUse + next.cores <= self.cores || self.running.isEmpty {
            self.waiting.removeFirst()
            do {
                try FileManager.default.createDirectory(atPath: self.launch.logDirectory, withIntermediateDirectories: true)
                let log = open(self.logPath(next.run), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                defer { if log >= 0 { close(log) } }
                let process = try SpawnedProcess.spawn(
                    executable: self.launch.executable, arguments: [next.run.jobId, next.run.runId], environment: next.environment,
                    output: log >= 0 ? log : nil)
                self.running[next.run] = Agent(pid: process.pid, process: process, cores: next.cores)
                self.logger.info("agent started", metadata: ["jobs.run": "\(next.run)", "agent.pid": "\(process.pid)"])
            } catch {
                self.logger.error("agent could not start", metadata: ["jobs.run": "\(next.run)", "error": "\(error)"])
                self.ended[next.run] = "the run's agent could not be started"
            }
        }
    }

    private func logPath(_ run: RunAddress) -> String {
        self.launch.logDirectory + "/\(run.jobId)-\(run.runId).log"
    }

    /// Finds a running agent for the run that this process did not start (it ran before a
    /// restart), and counts it from now on.
    private func adopt(_ run: RunAddress, reference: String) -> Agent? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count == 3, arguments[1] == run.jobId, arguments[2] == run.runId, arguments[0].hasSuffix("simforge-agent"),
                  SpawnedProcess.isRunning(pid: pid)
            else { continue }
            let agent = Agent(pid: pid, process: nil, cores: Int(reference.split(separator: "/").last ?? "") ?? 1)
            self.running[run] = agent
            self.logger.info("agent adopted", metadata: ["jobs.run": "\(run)", "agent.pid": "\(pid)"])
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
