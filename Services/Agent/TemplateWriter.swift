import Foundation
import SimforgeModels

/// Writes a run's templates (each analysis's `templateTasks`): the template file with its
/// `${name}` placeholders replaced by the run's values, under `processedFilename` in the
/// working directory (over an unpacked file of that name), executable as clients run them
/// (`./run.sh`).
struct TemplateWriter {
    let client: AgentClient
    let workspace: Workspace

    static let maxTemplateBytes = 16 * 1024 * 1024

    func write(_ job: Job, variables: [RunVariable]) async throws {
        for analysis in job.jobanalyses {
            for task in analysis.templateTasks {
                let name = task.templateFile.file?.name ?? task.templateFile.id
                let template: String
                do {
                    let bytes = try await self.client.contents(fileId: task.templateFile.id, limit: Self.maxTemplateBytes)
                    template = String(decoding: bytes, as: UTF8.self)
                } catch {
                    throw RunFailed(failure: RunFailure(.inputUnavailable, file: name), detail: "\(error)")
                }
                let processed: String
                do {
                    processed = try TemplateText.render(template, variables: variables)
                } catch let unknown as TemplateText.UnknownPlaceholder {
                    throw RunFailed(
                        failure: RunFailure(.templateUnknownPlaceholder, file: name, detail: unknown.name), detail: "template \(name)")
                }
                try self.save(processed, as: task.processedFilename, template: name)
            }
        }
    }

    private func save(_ text: String, as relativePath: String, template: String) throws {
        guard let path = RelativePath.normalized(relativePath) else {
            throw RunFailed(failure: RunFailure(.inputNameUnusable, file: relativePath), detail: "processedFilename \(relativePath)")
        }
        let destination = self.workspace.directory + "/" + path
        do {
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw RunFailed(failure: RunFailure(.inputNameUnusable, file: relativePath), detail: "\(error)")
        }
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else {
            throw RunFailed(failure: RunFailure(.inputNameUnusable, file: relativePath), detail: "cannot write \(destination): errno \(errno)")
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o755)
        try Array(text.utf8).withUnsafeBytes { try FileIO.writeAll($0, to: descriptor) }
    }
}
