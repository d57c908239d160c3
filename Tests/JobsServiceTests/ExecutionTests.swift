import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeProcess
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// Jobs that really run: real agents (the built `simforge-agent`), real commands, on the
/// local backend and on the one-node Slurm cluster that deploy/test.sh starts. Both
/// backends pass the same scenario.
@Suite struct ExecutionTests {
    typealias S = JobsStack

    enum Backend: String, CaseIterable, Sendable {
        case local, slurm
    }

    /// The site limit on walltime in these stacks: the walltime job runs into it, and it
    /// ends what a test leaves running (the one-node Slurm cluster has two cores for all
    /// of them). Real solvers on a loaded machine get `solverWalltimeLimit`.
    static let walltimeLimit = 6
    static let solverWalltimeLimit = 300

    static func execution(
        _ backend: Backend, workDirectory: String, partition: String? = nil, agentPath: String? = nil, runAs: String? = nil,
        localCores: Int = 4, maxUnpackedBytes: Int64? = nil, walltimeLimit: Int = walltimeLimit
    ) throws -> JobsConfiguration.Execution {
        if backend == .slurm {
            try #require(
                ProcessInfo.processInfo.environment["SLURM_CONF"] != nil,
                "SLURM_CONF is not set: run the tests with deploy/test.sh, which starts a one-node Slurm cluster")
        }
        var execution = JobsConfiguration.Execution(
            backend: backend == .local ? .local(cores: localCores) : .slurm(partition: partition),
            agentPath: agentPath ?? RepositoryPaths.binaries.appendingPathComponent("simforge-agent").path, workDirectory: workDirectory,
            jobsURL: nil, runAs: runAs)
        execution.heartbeatSeconds = 1
        execution.heartbeatTimeoutSeconds = 30
        execution.reconcileSeconds = 1
        execution.stopGraceSeconds = 2
        execution.walltimeLimitSeconds = walltimeLimit
        if let maxUnpackedBytes { execution.maxUnpackedBytes = maxUnpackedBytes }
        return execution
    }

    /// A stack whose jobs run on `backend`, with a scratch working directory.
    static func run(
        _ backend: Backend, partition: String? = nil, agentPath: String? = nil, runAs: String? = nil, localCores: Int = 4,
        maxUnpackedBytes: Int64? = nil, walltimeLimit: Int = walltimeLimit,
        _ body: @escaping @Sendable (any TestClientProtocol, JobsStack, String) async throws -> Void
    ) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("simforge-work-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let execution = try Self.execution(
            backend, workDirectory: work, partition: partition, agentPath: agentPath, runAs: runAs, localCores: localCores,
            maxUnpackedBytes: maxUnpackedBytes, walltimeLimit: walltimeLimit)
        try await S.run(execution: execution) { client, stack in
            do {
                try await body(client, stack, work)
            } catch {
                if backend == .slurm { await Self.cancelSlurmJobs(of: stack) }
                throw error
            }
            if backend == .slurm { await Self.cancelSlurmJobs(of: stack) }
        }
    }

    /// Cancels what a test leaves in the cluster: an agent whose jobs service is gone retries
    /// its reports for minutes, and would hold the node's cores from the tests after it.
    static func cancelSlurmJobs(of stack: JobsStack) async {
        let references: [String] = (try? await TestPostgres.withClient(stack.postgres) { client -> [String] in
            var references: [String] = []
            let rows = try await client.query("SELECT DISTINCT backend_ref FROM jobs.runs WHERE backend_ref IS NOT NULL", logger: TestPostgres.logger)
            for try await reference in rows.decode(String.self) { references.append(reference) }
            return references
        }) ?? []
        guard !references.isEmpty else { return }
        let scancel = Process()
        scancel.executableURL = URL(fileURLWithPath: "/usr/bin/scancel")
        scancel.arguments = references
        try? scancel.run()
        scancel.waitUntilExit()
    }

    static func create(_ client: any TestClientProtocol, command: String, fileId: String?, coresPerSlot: Int = 1, analysis: String = "user_included",
                       version: String = "0", submit: Bool = true) async throws -> String {
        let created = try await client.execute(
            uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice,
            body: ByteBuffer(string: S.jobJSON(fileId: fileId, coresPerSlot: coresPerSlot, analysis: analysis, version: version, command: command)))
        try #require(created.status == .created, "\(String(buffer: created.body))")
        let id = try #require(try S.json(created)["id"] as? String)
        if submit {
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
        }
        return id
    }

    /// Waits until the job's newest status is `status` (up to `seconds`: with every suite
    /// running at once, Slurm jobs queue behind each other on the two-core node); its
    /// history then.
    @discardableResult
    static func waitFor(_ status: String, _ id: String, _ stack: JobsStack, seconds: Double = 120) async throws -> [JobStatus] {
        let deadline = Date().addingTimeInterval(seconds)
        var history: [JobStatus] = []
        while Date() < deadline {
            let response = try await stack.status.execute(uri: "/alice/api/v2/jobs/\(id)/statuses/", method: .get, headers: S.alice)
            try #require(response.status == .ok, "statuses of \(id): \(response.status) \(String(buffer: response.body))")
            history = try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer: response.body)).results
            if history.first?.status == status { return history }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("job \(id) did not reach \(status): \(history.map { "\($0.status) \($0.statusReason ?? "")" })")
        return history
    }

    static func outputs(_ id: String, _ stack: JobsStack) async throws -> [String: File] {
        let response = try await stack.files.execute(uri: "/alice/api/v2/jobs/\(id)/files/?page_size=1000", method: .get, headers: S.alice)
        try #require(response.status == .ok, "outputs of \(id): \(response.status) \(String(buffer: response.body))")
        let page = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer: response.body))
        return Dictionary(uniqueKeysWithValues: page.results.map { ($0.relativePath, $0) })
    }

    static func contents(_ file: File?, _ stack: JobsStack) async throws -> String {
        let file = try #require(file)
        let response = try await stack.files.execute(uri: "/alice/api/v2/files/\(file.id)/contents/", method: .get, headers: S.alice)
        #expect(response.status == .ok)
        return String(buffer: response.body)
    }

    /// Processes whose command line is exactly `arguments`.
    static func processes(_ arguments: [String]) -> [Int32] {
        ProcessTable.pids { $0 == arguments }
    }

    @Test(arguments: Backend.allCases)
    func jobsRunWithTheirInputsAndReturnTheirOutputs(backend: Backend) async throws {
        try await Self.run(backend) { client, stack, work in
            let zip = try TestZip.make([
                .file("case/input.txt", "from the zip\n"), .file("case/unchanged.txt", "never touched\n"),
            ])
            let fileId = try await stack.upload(zip, name: "case.zip")
            let id = try await Self.create(
                client,
                command: """
                    cat case/input.txt && mkdir -p results/deep && echo nested > results/deep/out.txt \
                    && echo changed >> case/input.txt && env > env.txt && echo to stderr >&2 && exit 3
                    """,
                fileId: fileId, coresPerSlot: 2, analysis: "openfoam", version: "v1912")

            let history = try await Self.waitFor("Completed", id, stack)
            #expect(history.map(\.status) == ["Completed", "Executing", "Validated", "Started", "Queued", "Pending"])
            #expect(history.first?.statusReason == "Command exited with code 3")
            let run = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice))
            #expect(run["exitCode"] as? Int == 3)
            #expect(run["outputFileCount"] as? Int == 4)

            // Outputs: what the command created or changed, with their paths; not the inputs it left alone.
            let outputs = try await Self.outputs(id, stack)
            #expect(Set(outputs.keys) == ["process_output.log", "results/deep/out.txt", "case/input.txt", "env.txt"])
            #expect(outputs.values.allSatisfy { $0.typeId == File.TypeID.output })
            #expect(try await Self.contents(outputs["results/deep/out.txt"], stack) == "nested\n")
            #expect(try await Self.contents(outputs["case/input.txt"], stack) == "from the zip\nchanged\n")
            let log = try await Self.contents(outputs["process_output.log"], stack)
            #expect(log.hasPrefix("===== Command: cat case/input.txt"))
            #expect(log.hasSuffix(" =====\nfrom the zip\nto stderr\n"))

            // The command's environment: the version's, the job's and the hardware's; no secret.
            let environment = try await Self.contents(outputs["env.txt"], stack)
            let variables = Dictionary(environment.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let equals = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            }, uniquingKeysWith: { a, _ in a })
            #expect(variables["WM_PROJECT_DIR"] == "/usr/share/openfoam")
            #expect(variables["CASE"] == "cavity")
            #expect(variables["SIMFORGE_CORES"] == "2" && variables["SIMFORGE_SLOTS"] == "1" && variables["SIMFORGE_CORES_PER_SLOT"] == "2")
            #expect(variables["SIMFORGE_JOB_ID"] == id)
            let secrets = [S.token, JobToken(jobId: id, owner: "alice").mint(secret: S.token), stack.postgres.password]
            for secret in secrets {
                #expect(!environment.contains(secret), "a secret reached the command")
            }
            #expect(variables.keys.allSatisfy { !$0.hasPrefix("POSTGRES_") && !$0.hasPrefix("FILES_") && $0 != "INTERNAL_TOKEN" })
            #expect(variables["SIMFORGE_JOB_TOKEN"] == nil)
            // The working directory is cleaned up after the outputs were stored.
            #expect(!FileManager.default.fileExists(atPath: work + "/" + id + "/1"))
            #expect(!FileManager.default.fileExists(atPath: work + "/" + id))
        }
    }

    @Test(arguments: Backend.allCases)
    func stopEndsTheCommandAndEverythingItStarted(backend: Backend) async throws {
        try await Self.run(backend) { client, stack, _ in
            let marker = "\(Int.random(in: 100_000...999_999))"
            let id = try await Self.create(client, command: "sleep \(marker)1 & sleep \(marker)2; wait", fileId: nil)
            try await Self.waitFor("Executing", id, stack)
            for _ in 0..<50 where Self.processes(["sleep", "\(marker)1"]).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!Self.processes(["sleep", "\(marker)1"]).isEmpty, "the command runs")

            let stopped = Date()
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .accepted)
            let history = try await Self.waitFor("Completed", id, stack, seconds: 10)
            #expect(Date().timeIntervalSince(stopped) < 8)
            #expect(history.map(\.status).prefix(2) == ["Completed", "Stopping"])
            #expect(history.first?.statusReason == "Stopped by user")
            #expect(Self.processes(["sleep", "\(marker)1"]).isEmpty && Self.processes(["sleep", "\(marker)2"]).isEmpty, "children are gone too")
            #expect(try await Self.outputs(id, stack)["process_output.log"] != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func theWalltimeIsEnforced(backend: Backend) async throws {
        try await Self.run(backend) { client, stack, _ in
            let marker = "\(Int.random(in: 100_000...999_999))"
            let id = try await Self.create(client, command: "echo started; sleep \(marker)", fileId: nil)
            let history = try await Self.waitFor("Completed", id, stack, seconds: Double(Self.walltimeLimit) + 120)
            #expect(history.first?.statusReason == "Exceeded walltime")
            let executing = try #require(history.first { $0.status == "Executing" }?.statusDate)
            let completed = try #require(history.first?.statusDate)
            // The walltime runs from the command's start on the agent; Executing is when jobs
            // recorded the agent's report of it, a moment later on a loaded machine.
            #expect(completed.timeIntervalSince(executing) >= Double(Self.walltimeLimit) - 1)
            #expect(completed.timeIntervalSince(executing) < Double(Self.walltimeLimit) + 6)
            #expect(Self.processes(["sleep", marker]).isEmpty)
            #expect(try await Self.contents(try await Self.outputs(id, stack)["process_output.log"], stack).hasSuffix(" =====\nstarted\n"))
        }
    }

    @Test(arguments: Backend.allCases)
    func aZipSlipInputEndsTheJobAndWritesNothingOutside(backend: Backend) async throws {
        try await Self.run(backend) { client, stack, work in
            let name = "escape-\(UUID().uuidString).txt"
            let fileId = try await stack.upload(try TestZip.make([.file("ok.txt", "fine"), .file("../\(name)", "escaped")]), name: "evil.zip")
            let id = try await Self.create(client, command: "touch ran.txt", fileId: fileId)
            let history = try await Self.waitFor("Completed", id, stack)
            #expect(history.map(\.status) == ["Completed", "Started", "Queued", "Pending"])
            let reason = try #require(history.first?.statusReason)
            #expect(reason.hasPrefix("Could not start: input file 'evil.zip' has an entry that would land outside the working directory"))
            #expect(!FileManager.default.fileExists(atPath: work + "/" + name))
            #expect(try await Self.outputs(id, stack).isEmpty)
        }
    }

    /// OpenFOAM's lid-driven cavity tutorial (Debian's openfoam-examples), zipped as a user
    /// uploads it, meshed and solved by icoFoam through the platform.
    @Test func aRealOpenFOAMCaseCompletesWithItsSolverLog() async throws {
        let tutorial = "/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity"
        try #require(FileManager.default.fileExists(atPath: tutorial), "apt-get install openfoam openfoam-examples (deploy/test.sh needs them)")
        try await Self.run(.local, walltimeLimit: Self.solverWalltimeLimit) { client, stack, _ in
            let fileId = try await stack.upload(try TestZip.make(directory: tutorial, prefix: "cavity"), name: "cavity.zip")
            let id = try await Self.create(
                client, command: "cd cavity && blockMesh && icoFoam > log.icoFoam 2>&1", fileId: fileId, coresPerSlot: 1,
                analysis: "openfoam", version: "v1912")
            let history = try await Self.waitFor("Completed", id, stack, seconds: 60)
            #expect(history.first?.statusReason == "Completed successfully")
            let outputs = try await Self.outputs(id, stack)
            let solverLog = try await Self.contents(outputs["cavity/log.icoFoam"], stack)
            #expect(solverLog.contains("Time = 0.5") && solverLog.hasSuffix("End\n\n"))
            #expect(outputs["cavity/0.5/U"] != nil, "the last time step is an output")
            #expect(outputs["cavity/constant/polyMesh/points"] != nil, "the mesh is an output")
            #expect(try await Self.contents(outputs["process_output.log"], stack).contains("blockMesh"))
        }
    }

    @Test func aRunningJobsFilesCanBeTailedButNotThroughALink() async throws {
        try await Self.run(.local) { client, stack, _ in
            let id = try await Self.create(
                client, command: "mkdir logs && seq 1 50 | sed 's/^/line /' > logs/run.log && ln -s /etc/passwd passwd.link && sleep 600",
                fileId: nil)
            try await Self.waitFor("Executing", id, stack)
            let tail = "/alice/api/v2/jobs/\(id)/runs/1/tail"
            var lines: [String] = []
            for _ in 0..<50 where lines.isEmpty {
                let response = try await client.execute(uri: "\(tail)/logs/run.log?lines=3", method: .get, headers: S.alice)
                lines = response.status == .ok ? (try S.json(response)["lines"] as? [String] ?? []) : []
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(lines == ["line 48", "line 49", "line 50"])
            #expect(try await client.execute(uri: "\(tail)/passwd.link", method: .get, headers: S.alice).status == .notFound)
            #expect(try await client.execute(uri: "\(tail)/missing.log", method: .get, headers: S.alice).status == .notFound)
            #expect(try await client.execute(uri: "/bob/api/v2/jobs/\(id)/runs/1/tail/logs/run.log",
                                             method: .get, headers: S.bob).status == .notFound)

            _ = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice)
            try await Self.waitFor("Completed", id, stack)
            #expect(try await client.execute(uri: "\(tail)/logs/run.log", method: .get, headers: S.alice).status == .conflict)
        }
    }

    @Test func theCommandRunsAsTheConfiguredUnprivilegedUser() async throws {
        try await Self.run(.local, runAs: "nobody") { client, stack, _ in
            let id = try await Self.create(
                client,
                command: "id -un > who.txt && mkdir -p out && echo made > out/file.txt && (tr '\\0' '\\n' > agent-env.txt 2>&1 < /proc/$PPID/environ; true)",
                fileId: nil)
            let history = try await Self.waitFor("Completed", id, stack)
            #expect(history.first?.statusReason == "Completed successfully")
            let outputs = try await Self.outputs(id, stack)
            #expect(try await Self.contents(outputs["who.txt"], stack) == "nobody\n")
            #expect(try await Self.contents(outputs["out/file.txt"], stack) == "made\n")
            // The agent's own environment (its job token) is out of the command's reach.
            let agentEnvironment = try await Self.contents(outputs["agent-env.txt"], stack)
            #expect(agentEnvironment.contains("Permission denied"))
            #expect(!agentEnvironment.contains(JobToken(jobId: id, owner: "alice").mint(secret: S.token)))
        }
    }

    /// The agent never reports (it cannot even start): what Slurm says ends the job.
    @Test func aSlurmJobThatFailsBeforeItsAgentReportsEndsWithSlurmsReason() async throws {
        try await Self.run(.slurm, agentPath: "/bin/false") { client, stack, _ in
            let id = try await Self.create(client, command: "true", fileId: nil)
            let history = try await Self.waitFor("Completed", id, stack)
            #expect(history.map(\.status) == ["Completed", "Queued", "Pending"])
            let reason = try #require(history.first?.statusReason)
            #expect(reason == "Could not start: the cluster ended the run FAILED (exit code 1:0)", "\(reason)")
        }
    }

    /// Jobs pending in Slurm (a partition that never starts them): stopped by their user, or
    /// cancelled by an administrator.
    @Test func slurmJobsEndedWhilePendingEndWithAReason() async throws {
        try await Self.run(.slurm, partition: "held") { client, stack, _ in
            let stopped = try await Self.create(client, command: "true", fileId: nil)
            let cancelled = try await Self.create(client, command: "true", fileId: nil)
            try await Self.waitFor("Queued", stopped, stack)
            try await Self.waitFor("Queued", cancelled, stack)

            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(stopped)/stop/", method: .post, headers: S.alice).status == .accepted)
            let history = try await Self.waitFor("Completed", stopped, stack)
            #expect(history.map(\.status) == ["Completed", "Stopping", "Queued", "Pending"])
            #expect(history.first?.statusReason == "Stopped by user")

            let job = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/?job_status=QUEUED", method: .get, headers: S.alice))
            #expect((job["results"] as? [[String: Any]])?.map { $0["id"] as? String } == [cancelled])
            let squeue = try await CommandResult.run(
                "squeue", ["--noheader", "--array", "--format=%i %k"], environment: ProcessInfo.processInfo.environment, searchPath: true)
            let slurmId = try #require(squeue.output.split(separator: "\n").first { $0.hasSuffix("simforge job \(cancelled)") }?.split(separator: " ").first)
            #expect(try await CommandResult.run("scancel", [String(slurmId)], environment: ProcessInfo.processInfo.environment, searchPath: true).succeeded)
            let ended = try await Self.waitFor("Completed", cancelled, stack)
            #expect(ended.first?.statusReason == "Could not start: the cluster cancelled the run")
        }
    }

    @Test func anInputThatCannotBeFetchedEndsTheJobWithItsName() async throws {
        try await Self.run(.local) { client, stack, _ in
            let fileId = try await stack.upload(Data("data".utf8), name: "gone.dat")
            let id = try await Self.create(client, command: "true", fileId: fileId, submit: false)
            // Deleted after the job was created: the agent cannot fetch it.
            #expect(try await stack.files.execute(uri: "/alice/api/v2/files/\(fileId)/", method: .delete, headers: S.alice).status == .noContent)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
            let history = try await Self.waitFor("Completed", id, stack)
            #expect(history.first?.statusReason?.hasPrefix("Could not start: input file 'gone.dat' could not be fetched") == true)
        }
    }
}
