import AsyncHTTPClient
import Dispatch
import Foundation
import Logging
import SimforgeFailover
import SimforgeModels
import SimforgeProcess

/// One run, start to end: report `Started`; fetch and unpack the inputs and scripts, write
/// the run's templates, resolve each analysis version's environment, report `Validated`;
/// run every analysis in order, each as pre-processing, command and post-processing
/// (`Executing`), until a step fails; store what the run produced as outputs; report the
/// end. A step that fails ends the run with a failure naming it; the agent never waits
/// forever.
struct Agent {
    let configuration: AgentConfiguration
    let client: AgentClient
    let stop: StopRequest
    /// The agent's own environment (on Slurm, the allocation's variables).
    let environment: [String: String]
    let logger: Logger

    /// Runs the run; the process's exit code (0 once the end was reported).
    func run() async -> Int32 {
        do {
            try await self.client.report(RunEvent(type: .started))
        } catch {
            // Refused (already stopped or ended) or jobs unreachable: nothing to do.
            self.logger.error("cannot start the run", metadata: ["error": "\(error)"])
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
        var end: RunEvent
        do {
            let created = try Workspace.create(root: self.configuration.workRoot, jobId: self.configuration.jobId, runId: self.configuration.runId)
            workspace = created
            end = try await self.execute(in: created)
        } catch let failed as RunFailed {
            self.logger.error("run failed", metadata: ["failure": "\(failed)"])
            end = RunEvent(type: .finished, failure: self.stop.isRequested ? nil : failed.failure)
        } catch {
            self.logger.error("run failed", metadata: ["error": "\(error)"])
            end = RunEvent(type: .finished, failure: self.stop.isRequested ? nil : RunFailure(.agentFailure))
        }
        do {
            // The outputs are stored: the end is worth waiting for through a long outage of jobs.
            try await self.client.report(end, patience: .seconds(15 * 60))
            return 0
        } catch {
            self.logger.error("cannot report the end of the run", metadata: ["error": "\(error)"])
            return 1
        }
    }

    /// The steps from fetching the inputs to storing the outputs; the `Finished` event.
    private func execute(in workspace: Workspace) async throws -> RunEvent {
        let job: Job
        let run: Run
        do {
            job = try await self.client.job()
            run = try await self.client.run()
        } catch {
            throw RunFailed(failure: RunFailure(.agentFailure), detail: "the job could not be read (\(error))")
        }
        let budget = UnpackBudget(limit: self.configuration.maxUnpackedBytes, directory: workspace.directory)
        try await workspace.fetch(Self.inputs(of: job), client: self.client, budget: budget)
        try await TemplateWriter(client: self.client, workspace: workspace).write(job, variables: run.variables)
        var versions: [AnalysisVersionEnvironment] = []
        for analysis in job.jobanalyses {
            let code = analysis.analysis.code
            let versionCode = analysis.analysis.version ?? ""
            do {
                versions.append(try await self.client.environment(analysis: code, version: versionCode))
            } catch {
                throw RunFailed(failure: RunFailure(.analysisUnavailable, detail: "\(code) \(versionCode)"), detail: "\(error)")
            }
        }
        var user: RunUser?
        if let name = self.configuration.runAs {
            guard let found = RunUser.named(name) else {
                throw RunFailed(failure: RunFailure(.runAsUserMissing), detail: "user '\(name)' does not exist")
            }
            user = found
        }
        var machineFile: String?
        if job.jobanalyses.contains(where: \.useMpi) {
            let cores = job.jobanalyses.map(\.hardware.coresPerSlot).max() ?? 1
            let path = workspace.directory + "/" + MachineFile.name
            let lines = await MachineFile.lines(cores: cores, environment: self.environment)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
            machineFile = path
        }
        if let user { try workspace.handOver(uid: user.uid, gid: user.gid) }
        if self.stop.isRequested { return RunEvent(type: .finished) }
        try await self.client.report(RunEvent(type: .validated))

        let before = try workspace.snapshot()
        let steps = RunSteps(
            job: job, versions: versions, workspace: workspace, user: user,
            environment: RunEnvironment(
                jobId: self.configuration.jobId, run: run, directory: workspace.directory, user: user, agentEnvironment: self.environment,
                machineFile: machineFile),
            deadline: ContinuousClock.now + self.configuration.walltime, grace: self.configuration.stopGrace, stop: self.stop)
        var (exitCode, failure) = try await steps.run { date in
            do {
                try await self.client.report(RunEvent(type: .executing, runStarted: date))
            } catch {
                // Stopped meanwhile (the event does not follow Stopping): end the steps.
                self.logger.warning("Executing not accepted", metadata: ["error": "\(error)"])
                self.stop.request()
            }
        }
        let (count, size, missing) = await self.storeOutputs(of: workspace, changedSince: before)
        if missing > 0 && failure == nil {
            failure = RunFailure(.outputsNotStored, detail: "\(missing) of \(count + missing) files")
        }
        return RunEvent(type: .finished, exitCode: exitCode, failure: failure, outputFileCount: count, outputFileSize: size)
    }

    /// Every file the run needs in its working directory: each analysis's inputs, and its
    /// pre- and post-processing scripts (executable, as they are run as `./script`).
    /// A file two analyses share is fetched once.
    static func inputs(of job: Job) -> [Workspace.Input] {
        var inputs: [Workspace.Input] = []
        var seen = Set<String>()
        for analysis in job.jobanalyses {
            for input in analysis.inputFiles where seen.insert(input.id).inserted {
                inputs.append(Workspace.Input(id: input.id, name: input.file?.name ?? input.id, decompress: input.decompress))
            }
            for script in [analysis.preProcessScript, analysis.postProcessScript].compactMap({ $0 }) where seen.insert(script.id).inserted {
                inputs.append(Workspace.Input(id: script.id, name: script.file?.name ?? script.id, decompress: false, executable: true))
            }
        }
        return inputs
    }

    /// Uploads every file the run created or changed (`process_output.log` included); a file
    /// that cannot be stored after three tries is counted as missing.
    private func storeOutputs(of workspace: Workspace, changedSince before: [String: Workspace.Stamp]) async
        -> (count: Int, size: Int64, missing: Int) {
        let paths: [String]
        do {
            paths = try workspace.changes(since: before)
        } catch {
            self.logger.error("the working directory cannot be read", metadata: ["error": "\(error)"])
            return (0, 0, 1)
        }
        var count = 0
        var size: Int64 = 0
        var missing = 0
        for relativePath in paths {
            var attempt = 1
            while true {
                do {
                    size += try await self.client.upload(path: workspace.directory + "/" + relativePath, relativePath: relativePath)
                    count += 1
                    break
                } catch {
                    guard attempt < 3 else {
                        self.logger.error("output not stored", metadata: ["path": "\(relativePath)", "error": "\(error)"])
                        missing += 1
                        break
                    }
                    attempt += 1
                    try? await Task.sleep(for: .seconds(attempt))
                }
            }
        }
        return (count, size, missing)
    }
}

@main
struct AgentMain {
    static func main() async {
        // The agent holds its job token: the commands, perhaps the same user, must not read it.
        ProcessHardening.forbidInspection()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "simforge-agent")
        let environment = ProcessInfo.processInfo.environment
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration(arguments: CommandLine.arguments, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("simforge-agent: \(error)\n".utf8))
            exit(2)
        }
        logger[metadataKey: "jobs.id"] = "\(configuration.jobId)"
        logger[metadataKey: "jobs.run"] = "\(configuration.runId)"

        // TERM (the compute backend's stop) ends the steps gracefully; the agent finishes
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

        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .simforgeInternal(connect: .seconds(5)))
        let agent = Agent(
            configuration: configuration, client: AgentClient(configuration: configuration, http: http, logger: logger), stop: stop,
            environment: environment, logger: logger)
        let code = await agent.run()
        try? await http.shutdown()
        signals.forEach { $0.cancel() }
        exit(code)
    }
}
