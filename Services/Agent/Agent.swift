import AsyncHTTPClient
import Dispatch
import Foundation
import Logging
import SimforgeModels
import SimforgeProcess

/// One job, start to end: report `Started`, fetch and unpack the inputs, resolve the
/// analysis version's environment, report `Validated`, run the command (`Executing`),
/// store what it produced as outputs, report the end. A step that fails ends the job with
/// a reason saying what failed; the agent never waits forever.
struct Agent {
    let configuration: AgentConfiguration
    let client: AgentClient
    let stop: StopRequest
    let logger: Logger

    /// Runs the job; the process's exit code (0 once the end was reported).
    func run() async -> Int32 {
        do {
            try await self.client.report(.init(type: "Started"))
        } catch {
            // Refused (already stopped or ended) or jobs unreachable: nothing to do.
            self.logger.error("cannot start the job", metadata: ["error": "\(error)"])
            return 1
        }
        let heartbeat = Task {
            while (try? await Task.sleep(for: self.configuration.heartbeat)) != nil {
                if await self.client.heartbeat() { self.stop.request() }
            }
        }
        defer { heartbeat.cancel() }

        var workspace: Workspace?
        defer { workspace?.remove() }
        let end: AgentClient.Event
        do {
            let created = try Workspace.create(root: self.configuration.workRoot, jobId: self.configuration.jobId)
            workspace = created
            end = try await self.execute(in: created)
        } catch let refusal as Workspace.Refusal {
            end = .init(type: "Finished", reason: self.stop.isRequested ? nil : "Could not start: \(refusal)")
        } catch {
            end = .init(type: "Finished", reason: self.stop.isRequested ? nil : "Could not start: \(error)")
        }
        do {
            // The outputs are stored: the end is worth waiting for through a long outage of jobs.
            try await self.client.report(end, patience: .seconds(15 * 60))
            return 0
        } catch {
            self.logger.error("cannot report the end of the job", metadata: ["error": "\(error)"])
            return 1
        }
    }

    /// The steps from fetching the inputs to storing the outputs; the `Finished` event.
    private func execute(in workspace: Workspace) async throws -> AgentClient.Event {
        let job: Job
        do {
            job = try await self.client.job()
        } catch {
            throw Workspace.Refusal(description: "the job could not be read (\(error))")
        }
        guard let analysis = job.jobanalyses.first else { throw Workspace.Refusal(description: "the job has no analysis") }
        try await workspace.fetch(analysis.inputFiles, client: self.client)
        let versionCode = analysis.analysis.version ?? ""
        let version: AnalysisVersionEnvironment
        do {
            version = try await self.client.environment(analysis: analysis.analysis.code, version: versionCode)
        } catch {
            throw Workspace.Refusal(description: "analysis '\(analysis.analysis.code)' version '\(versionCode)' could not be resolved (\(error))")
        }
        var user: (name: String, uid: uid_t, gid: gid_t)?
        if let name = self.configuration.runAs {
            guard let found = CommandRun.user(named: name) else { throw Workspace.Refusal(description: "user '\(name)' does not exist") }
            try workspace.handOver(uid: found.uid, gid: found.gid)
            user = found
        }
        if self.stop.isRequested { return .init(type: "Finished") }
        try await self.client.report(.init(type: "Validated"))

        let before = try workspace.snapshot()
        let command = CommandRun(
            command: analysis.command,
            environment: CommandRun.environment(
                jobId: self.configuration.jobId, analysis: analysis, version: version, directory: workspace.directory, user: user?.name),
            directory: workspace.directory, user: user)
        let outcome = try await command.run(walltime: self.configuration.walltime, grace: self.configuration.stopGrace, stop: self.stop) { date in
            do {
                try await self.client.report(.init(type: "Executing", runStarted: date))
            } catch {
                // Stopped meanwhile (the event does not follow Stopping): end the command.
                self.logger.warning("Executing not accepted", metadata: ["error": "\(error)"])
                self.stop.request()
            }
        }

        var event = AgentClient.Event(type: "Finished")
        switch outcome {
        case .exited(let termination): event.exitCode = termination.exitCode
        case .exceededWalltime: event.reason = "Exceeded walltime"
        case .stopped: break
        }
        let (count, size, failure) = await self.storeOutputs(of: workspace, changedSince: before)
        event.outputFileCount = count
        event.outputFileSize = size
        if let failure {
            event.reason = "Outputs could not all be stored: \(failure)"
        }
        return event
    }

    /// Uploads every file the run created or changed (`process_output.log` included); stops
    /// at the first file that cannot be stored after three tries.
    private func storeOutputs(of workspace: Workspace, changedSince before: [String: Workspace.Stamp]) async
        -> (count: Int, size: Int64, failure: String?) {
        let paths: [String]
        do {
            paths = try workspace.changes(since: before)
        } catch {
            return (0, 0, "the working directory cannot be read (\(error))")
        }
        var count = 0
        var size: Int64 = 0
        for relativePath in paths {
            var attempt = 1
            while true {
                do {
                    size += try await self.client.upload(path: workspace.directory + "/" + relativePath, relativePath: relativePath)
                    count += 1
                    break
                } catch {
                    guard attempt < 3 else { return (count, size, "\(relativePath) (\(error))") }
                    attempt += 1
                    try? await Task.sleep(for: .seconds(attempt))
                }
            }
        }
        return (count, size, nil)
    }
}

@main
struct AgentMain {
    static func main() async {
        // The agent holds its job token: the command, perhaps the same user, must not read it.
        ProcessHardening.forbidInspection()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "simforge-agent")
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("simforge-agent: \(error)\n".utf8))
            exit(2)
        }
        logger[metadataKey: "jobs.id"] = "\(configuration.jobId)"

        // TERM (the compute backend's stop) ends the command gracefully; the agent finishes
        // its report.
        let stop = StopRequest()
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // Not isolated to the main actor like `main`: it runs on a Dispatch queue.
            source.setEventHandler { @Sendable in stop.request() }
            source.resume()
            return source
        }

        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5))))
        let agent = Agent(
            configuration: configuration, client: AgentClient(configuration: configuration, http: http, logger: logger), stop: stop,
            logger: logger)
        let code = await agent.run()
        try? await http.shutdown()
        signals.forEach { $0.cancel() }
        exit(code)
    }
}
