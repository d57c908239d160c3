import ArgumentParser
import Foundation
import SimforgeModels

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create and submit a job in one step; prints its id.",
        discussion: """
            The job comes from the flags, or from a JSON file in the API's own job shape \
            (--spec, e.g. a job read back with GET jobs/{id}/, kept in git); --input and \
            --input-file add input files to its first analysis either way. With --watch, the \
            statuses follow on stderr and the exit code is the job's (see simforge watch).

            Example:
              simforge run --analysis openfoam --version v1912 --input cavity \\
                --command 'cd cavity && blockMesh && icoFoam' --cores 2 --watch
              simforge run --spec job.json --input-file XkpTse
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The analysis code (simforge analyses lists them).")
    var analysis: String?

    @Option(name: .customLong("version"), help: "The analysis version code (default: the newest).")
    var analysisVersion: String?

    @Option(help: "The command the run executes, in its working directory.")
    var command: String?

    @Option(help: ArgumentHelp("A file or folder to upload as an input (repeatable).", valueName: "path"))
    var input: [String] = []

    @Option(help: ArgumentHelp("An uploaded file's id to use as an input (repeatable).", valueName: "id"))
    var inputFile: [String] = []

    @Option(help: "Cores for the run (coresPerSlot; default 1).")
    var cores: Int?

    @Flag(help: "Run with MPI (the command gets $SIMFORGE_MACHINEFILE and $SIMFORGE_MPI_RANKS).")
    var mpi = false

    @Option(help: "Walltime in hours (default: the server's).")
    var walltime: Int?

    @Option(help: ArgumentHelp("An environment variable of the command (repeatable).", valueName: "name=value"))
    var env: [String] = []

    @Option(help: "The core type code.")
    var coreType = "standard"

    @Option(help: "The job's name (default: the analysis code).")
    var name: String?

    @Option(help: ArgumentHelp("The job as JSON, in the API's shape.", valueName: "job.json"))
    var spec: String?

    @Flag(help: "Follow the job until it ends (as simforge watch).")
    var watch = false

    func validate() throws {
        if self.spec != nil {
            let flags = [self.analysis, self.analysisVersion, self.command, self.cores.map(String.init), self.walltime.map(String.init)]
            guard flags.allSatisfy({ $0 == nil }), !self.mpi, self.env.isEmpty else {
                throw ValidationError("--spec takes the job as written: only --input, --input-file and --name go with it.")
            }
        } else if self.analysis == nil || self.command == nil {
            throw ValidationError("Give --analysis and --command, or --spec.")
        }
        for pair in self.env where !pair.contains("=") {
            throw ValidationError("--env takes name=value, not '\(pair)'.")
        }
    }

    func run() async throws {
        let api = try self.connection.client()
        var job = try self.spec.map(Self.readSpec) ?? self.jobFromFlags()
        var inputs = self.inputFile
        let sources = try self.input.map { try UploadSource(path: $0) }
        if !sources.isEmpty { Terminal.onInterrupt("interrupted; the same command resumes the upload") }
        for source in sources {
            inputs.append(try await source.upload(to: api, resumable: true).id)
        }
        job = try Self.adding(inputs, to: job)
        if let name = self.name { job["name"] = .string(name) }

        let created = try await api.call(.POST, "jobs/", json: job.jsonBytes).body
        let id = try APIClient.decode(JobSummary.self, from: created, url: api.url("jobs/")).id
        _ = try await api.call(.POST, "jobs/\(id)/submit/")
        Terminal.output(id)
        guard self.watch else {
            Terminal.note("submitted job \(id) (follow it with: simforge watch \(id))")
            return
        }
        try await JobWatcher(api: api, jobId: id, printStatus: { Terminal.note($0) }).run()
    }

    private func jobFromFlags() -> JSONValue {
        var analysis: [(key: String, value: JSONValue)] = [("code", .string(self.analysis!))]
        if let version = self.analysisVersion { analysis.append(("version", .string(version))) }
        var hardware: [(key: String, value: JSONValue)] = [("coreType", .string(self.coreType))]
        if let cores = self.cores { hardware.append(("coresPerSlot", .number(String(cores)))) }
        if let walltime = self.walltime { hardware.append(("walltime", .number(String(walltime)))) }
        let env = self.env.map { pair -> (key: String, value: JSONValue) in
            let equals = pair.firstIndex(of: "=")!
            return (String(pair[..<equals]), .string(String(pair[pair.index(after: equals)...])))
        }
        return .object([
            ("name", .string(self.analysis!)),
            ("jobanalyses", .array([.object([
                ("analysis", .object(analysis)), ("command", .string(self.command!)), ("useMpi", .bool(self.mpi)),
                ("envVars", .object(env)), ("hardware", .object(hardware)), ("inputFiles", .array([])),
            ])])),
        ])
    }

    private static func readSpec(_ path: String) throws -> JSONValue {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError(message: "\(path): cannot read it", exitCode: CLIError.noInput)
        }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw CLIError(message: "\(path): \(error)", exitCode: CLIError.noInput)
        }
    }

    /// `inputFiles` of the first analysis, plus `{"id": ...}` for each of `ids`.
    private static func adding(_ ids: [String], to job: JSONValue) throws -> JSONValue {
        guard !ids.isEmpty else { return job }
        guard case .array(var analyses)? = job["jobanalyses"], var first = analyses.first else {
            throw CLIError.usage("the job has no jobanalyses to add inputs to")
        }
        var files: [JSONValue] = []
        if case .array(let existing)? = first["inputFiles"] { files = existing }
        files += ids.map { .object([("id", .string($0))]) }
        first["inputFiles"] = .array(files)
        analyses[0] = first
        var job = job
        job["jobanalyses"] = .array(analyses)
        return job
    }
}
