import Foundation
import SimforgeModels

/// Follows a job to its end: prints its status history once each, oldest first, learning
/// of each change through the status service's long-poll (`?after=LAST&wait=30`), not by
/// polling on a timer; optionally tails a file of a run meanwhile (``FileTail``).
struct JobWatcher {
    let api: APIClient
    let jobId: String
    /// Where status lines go: stdout for `watch`, stderr when stdout carries something else.
    let printStatus: @Sendable (String) -> Void
    var tail: FileTail?

    /// Returns when the job is `Completed`; throws ``CLIError/jobFailed`` with the reason
    /// unless it succeeded.
    func run() async throws {
        Terminal.onInterrupt("stopped watching; job \(self.jobId) keeps running (stop it with: simforge stop \(self.jobId))")
        let tailTask = self.tail.map { tail in Task { await tail.follow() } }
        var last: StatusEntry?
        var printed = Set<String>()
        var route = "jobs/\(self.jobId)/statuses/"
        while last?.status != "Completed" {
            let asked = ContinuousClock.now
            let (entries, _) = try await self.api.list(route, as: StatusEntry.self)
            // Newest first in the API. A server that ignores `after` repeats old entries.
            let new = entries.reversed().filter { printed.insert($0.statusDate + $0.status).inserted }
            for entry in new {
                self.printStatus(entry.line)
                last = entry
            }
            if new.isEmpty, ContinuousClock.now - asked < .seconds(1) {
                try await Task.sleep(for: .seconds(2))  // nor does it wait: poll gently
            }
            if let last {
                let after = last.statusDate.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-.:"))) ?? ""
                route = "jobs/\(self.jobId)/statuses/?after=\(after)&wait=30"
            }
        }
        if let tailTask {
            tailTask.cancel()
            await tailTask.value
            try await self.tail?.finish()
        }
        let reason = last?.statusReason ?? ""
        guard Self.succeeded(reason) else {
            throw CLIError(message: "job \(self.jobId) did not succeed: \(reason)", exitCode: CLIError.jobFailed)
        }
    }

    /// `Completed successfully`, or a sweep whose every run succeeded (`3 of 3 runs succeeded`).
    static func succeeded(_ reason: String) -> Bool {
        if reason.isEmpty || reason == "Completed successfully" { return true }
        let words = reason.split(separator: " ")
        return words.count == 5 && words[0] == words[2] && words[1] == "of" && reason.hasSuffix("runs succeeded")
    }

    struct StatusEntry: Decodable {
        var status: String
        var statusDate: String
        var statusReason: String?

        /// `12:44:01  Executing`, with the reason when there is one, in local time.
        var line: String {
            let time = ISODate.parse(self.statusDate).map { date in
                let formatter = DateFormatter()
                formatter.dateFormat = "HH:mm:ss"
                return formatter.string(from: date)
            } ?? self.statusDate
            let reason = self.statusReason.map { $0.isEmpty ? "" : "  (\($0))" } ?? ""
            return "\(time)  \(self.status)\(reason)"
        }
    }
}
