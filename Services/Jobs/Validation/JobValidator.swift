import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// Checks a job against the catalog and the caller's files, collecting every problem in
/// DRF's nested shape, and fills what the answer adds: defaults, the analysis version
/// (the newest active one when none is named) and its names, the core summary, the full
/// File of every file the job refers to. Catalog or files unreachable: 503.
struct JobValidator: Sendable {
    let catalog: InternalClient
    let files: InternalClient
    /// Where runs execute: a run may not ask for more cores than its largest node.
    let backend: (any ComputeBackend)?
    let jobTokenSecret: String
    let defaultWalltimeHours: Int

    struct Validated {
        var job: Job
        var analysisNames: [String]
    }

    func validate(_ input: Job, jobId: String, owner: String, logger: Logger) async throws -> Validated {
        var job = input
        var errors = UnsupportedFields.problems(in: job)
        if let problem = Self.nameProblem(job.name) { errors["name"] = .messages([problem]) }
        var names: [String] = []
        if job.jobanalyses.isEmpty {
            errors["jobanalyses"] = .messages(["A job needs at least one analysis."])
        } else if errors["jobanalyses"] == nil {
            let files = FileResolver(files: self.files, jobId: jobId, owner: owner, tokenSecret: self.jobTokenSecret)
            var perAnalysis: [FieldErrors] = []
            for index in job.jobanalyses.indices {
                var problems = UnsupportedFields.problems(in: job.jobanalyses[index])
                let name = try await self.check(&job.jobanalyses[index], files: files, problems: &problems, logger: logger)
                perAnalysis.append(.object(problems))
                if let name { names.append(name) }
            }
            if perAnalysis.contains(where: { $0 != .object([:]) }) { errors["jobanalyses"] = .list(perAnalysis) }
        }
        if let reference = job.paramFile {
            let files = FileResolver(files: self.files, jobId: jobId, owner: owner, tokenSecret: self.jobTokenSecret)
            switch try await files.resolve(reference.id, logger: logger) {
            case .success(let file): job.paramFile = Job.FileReference(id: file.id, file: file)
            case .failure(let problem): errors["paramFile"] = .object(["id": .messages([problem.message])])
            }
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        job.id = jobId
        job.owner = owner
        return Validated(job: job, analysisNames: names)
    }

    /// Problems of one job analysis, keyed by field; fills its version, names, defaults,
    /// core summary and files. Returns the analysis's name.
    private func check(_ analysis: inout Job.JobAnalysis, files: FileResolver, problems: inout [String: FieldErrors], logger: Logger)
        async throws -> String? {
        if Self.isBlank(analysis.command) {
            problems["command"] = .messages(["This field may not be blank."])
        }
        if let name = analysis.envVars.keys.first(where: { $0.isEmpty || $0.contains("=") }) {
            problems["envVars"] = .messages(["'\(name)' is not an environment variable name."])
        }

        let version = try await self.version(of: analysis.analysis, logger: logger)
        switch version {
        case .success(let found):
            analysis.analysis.version = found.versionCode
            analysis.analysis.name = found.analysisName
            analysis.analysis.versionName = found.version
        case .failure(let problem):
            problems["analysis"] = .object([analysis.analysis.version == nil ? "code" : "version": .messages([problem.message])])
        }

        var hardware: [String: FieldErrors] = [:]
        if let coreType = try await self.catalog.get(
            "/internal/coretypes/\(Self.escape(analysis.hardware.coreType))", as: CoreType.self, logger: logger),
           coreType.isActive && !coreType.isDeprecated {
            if case .success(let found) = version, !found.allowedCoreTypes.contains(coreType.code) {
                hardware["coreType"] = .messages(["Core type '\(coreType.code)' is not allowed for this analysis version."])
            }
            if analysis.hardware.coresPerSlot < 1 {
                hardware["coresPerSlot"] = .messages(["Ensure this value is greater than or equal to 1."])
            } else if !coreType.cores.contains(analysis.hardware.coresPerSlot) {
                hardware["coresPerSlot"] = .messages(
                    ["Core type '\(coreType.code)' has nodes of \(coreType.cores.map(String.init).joined(separator: ", ")) cores."])
            } else if let backend, case let most = try await backend.maxCoresPerRun(logger: logger), analysis.hardware.coresPerSlot > most {
                hardware["coresPerSlot"] = .messages(
                    ["Ensure this value is less than or equal to \(most): the largest node this site runs jobs on has \(most) cores."])
            }
            analysis.hardware.coreSummary = Job.CoreSummary(
                memoryPerNode: coreType.memory * analysis.hardware.coresPerSlot,
                storagePerNode: coreType.storage * analysis.hardware.coresPerSlot,
                numberOfNodes: 1)
        } else {
            hardware["coreType"] = .messages(["unknown core type '\(analysis.hardware.coreType)'"])
        }
        if let problem = Self.rangeProblem(analysis.hardware.slots, Self.slotRange) {
            hardware["slots"] = .messages([problem])
        }
        if let walltime = analysis.hardware.walltime, let problem = Self.rangeProblem(walltime, Self.walltimeRange) {
            hardware["walltime"] = .messages([problem])
        }
        analysis.hardware.walltime = analysis.hardware.walltime ?? self.defaultWalltimeHours
        if !hardware.isEmpty { problems["hardware"] = .object(hardware) }

        var inputProblems: [FieldErrors] = []
        for index in analysis.inputFiles.indices {
            switch try await files.resolve(analysis.inputFiles[index].id, logger: logger) {
            case .success(let file):
                analysis.inputFiles[index].file = file
                inputProblems.append(.object([:]))
            case .failure(let problem):
                inputProblems.append(.object(["id": .messages([problem.message])]))
            }
        }
        if inputProblems.contains(where: { $0 != .object([:]) }) { problems["inputFiles"] = .list(inputProblems) }
        for (field, script) in [("preProcessScript", \Job.JobAnalysis.preProcessScript), ("postProcessScript", \.postProcessScript)] {
            guard let reference = analysis[keyPath: script] else { continue }
            switch try await files.resolve(reference.id, logger: logger) {
            case .success(let file): analysis[keyPath: script] = Job.FileReference(id: reference.id, file: file)
            case .failure(let problem): problems[field] = .object(["id": .messages([problem.message])])
            }
        }
        var templateProblems: [FieldErrors] = []
        for index in analysis.templateTasks.indices {
            var problem: [String: FieldErrors] = [:]
            let task = analysis.templateTasks[index]
            switch try await files.resolve(task.templateFile.id, logger: logger) {
            case .success(let file): analysis.templateTasks[index].templateFile = Job.FileReference(id: file.id, file: file)
            case .failure(let failure): problem["templateFile"] = .object(["id": .messages([failure.message])])
            }
            if RelativePath.normalized(task.processedFilename) == nil {
                problem["processedFilename"] = .messages(["A relative path inside the working directory is required."])
            }
            templateProblems.append(.object(problem))
        }
        if templateProblems.contains(where: { $0 != .object([:]) }) { problems["templateTasks"] = .list(templateProblems) }
        if case .success(let found) = version { return found.analysisName }
        return nil
    }

    /// The named version, or the newest active one; why not, in words.
    private func version(of reference: Job.AnalysisRef, logger: Logger) async throws -> Result<AnalysisVersionEnvironment, Problem> {
        let code = reference.code
        if let versionCode = reference.version {
            let version = try await self.catalog.get(
                "/internal/analyses/\(Self.escape(code))/versions/\(Self.escape(versionCode))", as: AnalysisVersionEnvironment.self,
                logger: logger)
            guard let version, version.isActive else { return .failure(Problem("Unknown version '\(versionCode)' of analysis '\(code)'.")) }
            return .success(version)
        }
        let versions = try await self.catalog.get(
            "/internal/analyses/\(Self.escape(code))/versions", as: [AnalysisVersionEnvironment].self, logger: logger)
        guard let newest = versions?.first(where: \.isActive) else { return .failure(Problem("Unknown analysis '\(code)'.")) }
        return .success(newest)
    }

    struct Problem: Error {
        var message: String

        init(_ message: String) {
            self.message = message
        }
    }

    // MARK: - Rules

    static func nameProblem(_ name: String) -> String? {
        if Self.isBlank(name) { return "This field may not be blank." }
        if name.unicodeScalars.count > 200 { return "Ensure this field has no more than 200 characters." }
        return nil
    }

    /// Empty or white space only (the `Not blank` pattern of deploy/openapi.yaml).
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { CharacterSet.whitespacesAndNewlines.contains($0) }
    }

    /// Runs of a job executing at once.
    static let slotRange = 1...10_000
    /// Hours: a year at most, so that seconds and deadlines never overflow.
    static let walltimeRange = 1...8760

    /// DRF's message for a number outside `range`, or `nil`.
    static func rangeProblem(_ value: Int, _ range: ClosedRange<Int>) -> String? {
        if value < range.lowerBound { return "Ensure this value is greater than or equal to \(range.lowerBound)." }
        if value > range.upperBound { return "Ensure this value is less than or equal to \(range.upperBound)." }
        return nil
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }
}
