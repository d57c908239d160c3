import ArgumentParser
import Foundation

struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download every output file of a job's runs into DIR as a tree (run1/...).",
        discussion: """
            Files already in DIR with the server's size and MD5 are skipped: running it again \
            after a cut fetches only what is missing. Each file's MD5 is checked.

            Example:
              simforge download XkpTse results        # results/run1/cavity/0.5/U, ...
              simforge download XkpTse results --include '*.log'
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The job's id.")
    var job: String

    @Argument(help: "The folder to download into (default: one named after the job).")
    var dir: String?

    @Option(help: ArgumentHelp(
        "Only files whose tree path (run1/cavity/log.icoFoam) matches this shell pattern; * also matches /. Repeatable.",
        valueName: "glob"))
    var include: [String] = []

    @Option(help: "Files downloaded at once.")
    var parallel = 4

    func validate() throws {
        guard self.parallel >= 1 else { throw ValidationError("--parallel must be at least 1.") }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: self.dir ?? self.job)
        let outcome = try await OutputDownload(
            api: try self.connection.client(), jobId: self.job, folder: folder, include: self.include, parallel: self.parallel
        ).run()
        Terminal.output("downloaded \(outcome.downloaded) files (\(ProgressDisplay.bytes(outcome.bytes))) into \(folder.path), "
                        + "\(outcome.complete) already complete")
    }
}
