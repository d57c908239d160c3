import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// Checks a job against the catalog and the caller's files, collecting every problem in
/// DRF's nested shape, and fills what the response adds: defaults, the core summary, the
/// input files' File objects, the analyses' names. Catalog or files unreachable: 503.
struct JobValidator: Sendable {
    let catalog: InternalClient
    let files: InternalClient
    let jobTokenSecret: String
    let defaultWalltimeHours: Int

    struct Validated {
        var job: Job
        var analysisNames: [String]
    }

    func validate(_ input: Job, jobId: String, owner: String, logger: Logger) async throws -> Validated {
        var job = input
        var errors: [String: FieldErrors] = [:]
        if job.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors["name"] = .messages(["This field may not be blank."])
        } else if job.name.count > 200 {
            errors["name"] = .messages(["Ensure this field has no more than 200 characters."])
        }
        var names: [String] = []
        if job.jobanalyses.isEmpty {
            errors["jobanalyses"] = .messages(["A job needs at least one analysis."])
        } else {
            var perAnalysis: [FieldErrors] = []
            var anyProblem = false
            for index in job.jobanalyses.indices {
                let (problems, name) = try await self.check(&job.jobanalyses[index], jobId: jobId, owner: owner, logger: logger)
                perAnalysis.append(.object(problems))
                anyProblem = anyProblem || !problems.isEmpty
                if let name { names.append(name) }
            }
            if anyProblem { errors["jobanalyses"] = .list(perAnalysis) }
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        job.id = jobId
        job.owner = owner
        return Validated(job: job, analysisNames: names)
    }

    /// Problems of one job analysis, keyed by field; fills defaults and the core summary.
    private func check(_ analysis: inout Job.JobAnalysis, jobId: String, owner: String, logger: Logger) async throws
        -> ([String: FieldErrors], String?) {
        var problems: [String: FieldErrors] = [:]
        if analysis.command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problems["command"] = .messages(["This field may not be blank."])
        }

        var version: AnalysisVersionEnvironment?
        if let versionCode = analysis.analysis.version {
            version = try await self.catalog.get(
                "/internal/analyses/\(Self.escape(analysis.analysis.code))/versions/\(Self.escape(versionCode))",
                as: AnalysisVersionEnvironment.self, logger: logger)
            if version == nil || version?.isActive == false {
                problems["analysis"] = .object(["version": .messages(["Unknown version '\(versionCode)' of analysis '\(analysis.analysis.code)'."])])
            }
        } else {
            problems["analysis"] = .object(["version": .messages(["This field is required."])])
        }

        var hardware: [String: FieldErrors] = [:]
        let coreType = try await self.catalog.get(
            "/internal/coretypes/\(Self.escape(analysis.hardware.coreType))", as: CoreType.self, logger: logger)
        if let coreType, coreType.isActive {
            if let version, !version.allowedCoreTypes.contains(coreType.code) {
                hardware["coreType"] = .messages(["Core type '\(coreType.code)' is not allowed for this analysis version."])
            }
            if analysis.hardware.coresPerSlot < 1 {
                hardware["coresPerSlot"] = .messages(["Ensure this value is greater than or equal to 1."])
            } else if !coreType.cores.contains(analysis.hardware.coresPerSlot) {
                hardware["coresPerSlot"] = .messages(["Core type '\(coreType.code)' has nodes of \(coreType.cores.map(String.init).joined(separator: ", ")) cores."])
            }
            analysis.hardware.coreSummary = Job.CoreSummary(
                memoryPerNode: coreType.memory * analysis.hardware.coresPerSlot,
                storagePerNode: coreType.storage * analysis.hardware.coresPerSlot,
                numberOfNodes: analysis.hardware.slots)
        } else {
            hardware["coreType"] = .messages(["unknown core type '\(analysis.hardware.coreType)'"])
        }
        if analysis.hardware.slots < 1 {
            hardware["slots"] = .messages(["Ensure this value is greater than or equal to 1."])
        }
        if let walltime = analysis.hardware.walltime, walltime < 1 {
            hardware["walltime"] = .messages(["Ensure this value is greater than or equal to 1."])
        }
        analysis.hardware.walltime = analysis.hardware.walltime ?? self.defaultWalltimeHours
        if !hardware.isEmpty { problems["hardware"] = .object(hardware) }

        var fileProblems: [FieldErrors] = []
        let token = JobToken(jobId: jobId, owner: owner).mint(secret: self.jobTokenSecret)
        for index in analysis.inputFiles.indices {
            let id = analysis.inputFiles[index].id
            let file = ShortID.isWellFormed(id)
                ? try await self.files.get("/internal/jobs/\(jobId)/files/\(id)", as: File.self, headers: [(JobToken.header, token)], logger: logger)
                : nil
            if let file, file.isUploaded {
                analysis.inputFiles[index].file = file
                fileProblems.append(.object([:]))
            } else {
                fileProblems.append(.object(["id": .messages([file == nil ? "File '\(id)' not found." : "File '\(id)' is not fully uploaded."])]))
            }
        }
        if fileProblems.contains(where: { $0 != .object([:]) }) { problems["inputFiles"] = .list(fileProblems) }
        return (problems, version?.analysisName)
    }

    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }
}
