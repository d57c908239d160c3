import ArgumentParser
import Foundation

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a job's statuses until it ends; exit 0 if it succeeded, 1 with the reason if not.",
        discussion: """
            Each status is printed once, as it happens (long-polls, no fixed sleep). With \
            --tail, the file's content goes to stdout as it grows and the statuses to stderr. \
            ^C stops watching; the job keeps running.

            Example:
              simforge watch XkpTse
              simforge watch XkpTse --tail process_output.log
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The job's id.")
    var job: String

    @Option(help: ArgumentHelp("Print this file of the run's working directory as it grows.", valueName: "path"))
    var tail: String?

    @Option(name: .customLong("run"), help: "The run whose file --tail prints (a sweep has one per combination).")
    var runId = "1"

    func run() async throws {
        let api = try self.connection.client()
        let tail = self.tail.map { FileTail(api: api, jobId: self.job, runId: self.runId, path: $0) }
        let toStderr = tail != nil
        try await JobWatcher(api: api, jobId: self.job, printStatus: { line in
            if toStderr { Terminal.note(line) } else { Terminal.output(line) }
        }, tail: tail).run()
    }
}

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a running job (its runs' commands get TERM, then KILL).",
        discussion: """
            Example:
              simforge stop XkpTse && simforge watch XkpTse     # ends "Stopped by user"
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The job's id.")
    var job: String

    func run() async throws {
        _ = try await self.connection.client().call(.POST, "jobs/\(self.job)/stop/")
        Terminal.note("stopping job \(self.job)")
    }
}
