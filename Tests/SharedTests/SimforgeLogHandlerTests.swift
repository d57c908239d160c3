import Logging
@testable import SimforgeServer
import Testing

/// ``SimforgeLogHandler`` writes `StreamLogHandler`'s line, metadata rendered when logging.
@Suite struct SimforgeLogHandlerTests {
    @Test func aLineCarriesTheLoggersAndTheCallsMetadataSortedWithTheCallsWinning() {
        var handler = SimforgeLogHandler(label: "jobs", metadataProvider: nil)
        handler[metadataKey: "request.id"] = "r-1"
        handler[metadataKey: "job"] = "old"
        #expect(handler[metadataKey: "request.id"] == "r-1")
        let event = LogEvent(
            level: .warning, message: "outbox delivery failed", metadata: ["job": "abc", "attempt": "2"], source: "JobsService",
            file: #fileID, function: #function, line: #line)
        let line = SimforgeLogHandler.line(event: event, label: "jobs", metadata: handler.metadata, provider: nil)
        let (time, rest) = (line.prefix(24), line.dropFirst(25))
        #expect(time.count == 24 && time.contains("T"))
        #expect(rest == "warning jobs: attempt=2 job=abc request.id=r-1 [JobsService] outbox delivery failed\n")
    }
}
