import Foundation

/// What a run's agent reports to the jobs service, one step of the run at a time
/// (`POST /internal/jobs/{jobId}/runs/{runId}/events`): the contract both sides share.
public struct RunEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The agent runs on its node.
        case started = "Started"
        /// Inputs fetched and unpacked, templates written, analyses resolved.
        case validated = "Validated"
        /// The first step's command runs.
        case executing = "Executing"
        /// The run ended; its outputs are stored.
        case finished = "Finished"
    }

    public var type: Kind
    /// `Executing`: when the first command started.
    public var runStarted: Date?
    /// `Finished`: the exit code of the last step that ran (none when no step ran).
    public var exitCode: Int?
    /// `Finished`: why the run failed; `nil` when every step succeeded (or it was stopped).
    public var failure: RunFailure?
    /// `Finished`: the outputs stored.
    public var outputFileCount: Int?
    public var outputFileSize: Int64?

    public init(type: Kind, runStarted: Date? = nil, exitCode: Int? = nil, failure: RunFailure? = nil, outputFileCount: Int? = nil,
                outputFileSize: Int64? = nil) {
        self.type = type
        self.runStarted = runStarted
        self.exitCode = exitCode
        self.failure = failure
        self.outputFileCount = outputFileCount
        self.outputFileSize = outputFileSize
    }
}

/// A step of a run: each analysis, in order, is its pre-processing, its command and its
/// post-processing.
public struct RunStep: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        case preProcessing, command, postProcessing
    }

    public var kind: Kind
    /// 1 for the job's first analysis.
    public var analysis: Int

    public init(_ kind: Kind, analysis: Int) {
        self.kind = kind
        self.analysis = analysis
    }

    /// `Pre-processing of analysis 2` (or `Pre-processing` when the job has one analysis).
    public func name(analysisCount: Int) -> String {
        let kind = switch self.kind {
        case .preProcessing: "Pre-processing"
        case .command: "Command"
        case .postProcessing: "Post-processing"
        }
        return analysisCount > 1 ? "\(kind) of analysis \(self.analysis)" : kind
    }

    public var description: String { self.name(analysisCount: 2) }
}

/// Why a run did not succeed, as its agent reports it: what failed, never raw error text
/// (paths, errno strings). ``reason(analysisCount:)`` words it for the status history, in
/// terms a user can act on; the details stay in the agent's own log.
public struct RunFailure: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A step's command exited with `exitCode` (or was killed by a signal: 128 + n).
        case stepFailed
        case exceededWalltime
        /// An input file (or script, template, parameter file) could not be fetched.
        case inputUnavailable
        /// An input's name cannot be a file in the working directory (or is used twice).
        case inputNameUnusable
        /// An archive is not a valid zip or tar archive.
        case archiveInvalid
        /// An archive entry would land outside the working directory.
        case archiveEscapes
        /// An archive holds a link, a device or another special file.
        case archiveSpecialFile
        /// An archive unpacks to more than the site allows (`limitBytes`).
        case archiveTooLarge
        /// A template names a placeholder (`detail`) that is no variable of the run.
        case templateUnknownPlaceholder
        /// The analysis version (`detail`) is no longer in the catalog.
        case analysisUnavailable
        /// The site's run-as user does not exist on the node.
        case runAsUserMissing
        /// Some outputs could not be stored (`detail`: how many).
        case outputsNotStored
        /// The agent itself failed (its log says why).
        case agentFailure
    }

    public var kind: Kind
    public var step: RunStep?
    public var exitCode: Int?
    /// The file concerned (its name as the user gave it).
    public var file: String?
    public var detail: String?
    public var limitBytes: Int64?

    public init(_ kind: Kind, step: RunStep? = nil, exitCode: Int? = nil, file: String? = nil, detail: String? = nil,
                limitBytes: Int64? = nil) {
        self.kind = kind
        self.step = step
        self.exitCode = exitCode
        self.file = file
        self.detail = detail
        self.limitBytes = limitBytes
    }

    /// The status reason users read (`Pre-processing of analysis 2 exited with code 3`).
    public func reason(analysisCount: Int) -> String {
        let file = "'\(self.file ?? "?")'"
        switch self.kind {
        case .stepFailed:
            let step = self.step?.name(analysisCount: analysisCount) ?? "Command"
            return "\(step) exited with code \(self.exitCode ?? -1)"
        case .exceededWalltime: return "Exceeded walltime"
        case .inputUnavailable: return "Could not start: input file \(file) could not be fetched"
        case .inputNameUnusable: return "Could not start: input file name \(file) cannot be used in the working directory (or is used twice)"
        case .archiveInvalid: return "Could not start: input file \(file) is not a valid archive"
        case .archiveEscapes: return "Could not start: input file \(file) has an entry that would land outside the working directory"
        case .archiveSpecialFile: return "Could not start: input file \(file) holds a link or a special file; only files and folders are unpacked"
        case .archiveTooLarge:
            return "Could not start: input file \(file) unpacks to more than \(self.limitBytes ?? 0) bytes (the site's limit or the free disk)"
        case .templateUnknownPlaceholder:
            return "Could not start: template \(file) uses ${\(self.detail ?? "?")}, which is not a variable of the run"
        case .analysisUnavailable: return "Could not start: analysis version \(self.detail ?? "?") is no longer in the catalog"
        case .runAsUserMissing: return "Could not start: the site's run-as user does not exist (tell the operator)"
        case .outputsNotStored: return "Outputs could not all be stored (\(self.detail ?? "some") missing)"
        case .agentFailure: return "Could not start: the run's agent failed (the operator's logs say why)"
        }
    }
}
