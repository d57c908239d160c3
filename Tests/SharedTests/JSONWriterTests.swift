import Foundation
import SimforgeModels
import Testing

/// ``JSONWriter`` must write exactly what `JSONEncoder.simforge()` writes.
@Suite struct JSONWriterTests {
    static let awkward = "quote \" backslash \\ slash / controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F} del \u{7F} é 漢字 🚀"

    static func expectSameBytes<Value: JSONWritable & Encodable>(_ value: Value) throws {
        let written = String(decoding: value.jsonBytes, as: UTF8.self)
        let encoded = String(decoding: try JSONEncoder.simforge().encode(value), as: UTF8.self)
        #expect(written == encoded)
    }

    @Test func statusPagesMatchTheEncoder() throws {
        let date = Date(timeIntervalSince1970: 1_415_830_809.596996)
        try Self.expectSameBytes(Page<JobStatus>(count: 0, next: nil, previous: nil, results: []))
        try Self.expectSameBytes(Page(
            count: 3, next: "http://h/alice/api/v2/jobs/statuses/?page=3", previous: "http://h/x?a=1&page=1",
            results: [
                JobStatus(status: "Completed", statusDate: date, statusReason: Self.awkward, jobId: "abc"),
                JobStatus(status: "Pending", statusDate: Date(timeIntervalSince1970: 0), statusReason: nil),
            ]))
    }

    @Test func jobsMatchTheEncoder() throws {
        let file = File(
            id: "F1", typeId: 1, name: Self.awkward, dateUploaded: Date(timeIntervalSince1970: 1_700_000_000.123456), relativePath: "a/b.zip",
            path: "user/user_alice/b-1.zip", encodedEncryptionKey: "a2V5", sharedWith: ["bob", "carol"], decryptedSize: 5_000_000_000,
            owner: "alice", isUploaded: true, viewInBrowser: false, md5: nil, downloadUrl: "http://h/alice/api/v2/files/F1/contents/")
        var withMD5 = file
        withMD5.md5 = "d41d8cd98f00b204e9800998ecf8427e"
        var analysis = Job.JobAnalysis(
            analysis: .init(code: "openfoam", version: nil), command: Self.awkward,
            hardware: .init(coreType: "standard", coresPerSlot: 2, slots: 3, walltime: nil),
            inputFiles: [.init(id: "F1", decompress: false, file: file), .init(id: "F2"), .init(id: "F3", file: withMD5)],
            useMpi: true, envVars: ["b": "2", "B": "1", "a10": "x", "a9": "y", "é": Self.awkward, "": "empty"])
        analysis.preProcessScript = "pre.sh"
        analysis.postProcessScriptCommand = "post"
        var job = Job(name: Self.awkward, jobanalyses: [analysis], description: "d", isLowPriority: true, projectId: "p1")
        try Self.expectSameBytes(job)
        job.id = "J1"
        job.owner = "alice"
        job.jobanalyses.append(Job.JobAnalysis(
            analysis: .init(code: "user_included", version: "0"), command: "true",
            hardware: .init(coreType: "hpc", coresPerSlot: 1, slots: 1, walltime: 48,
                            coreSummary: .init(memoryPerNode: 4000, storagePerNode: 32, numberOfNodes: 1))))
        job.jobanalyses[1].postProcessScript = "post.sh"
        try Self.expectSameBytes(job)
    }

    @Test func datesMatchTheFormatItReplaced() {
        var seconds = -86_400.0 * 365 * 60
        while seconds < 86_400.0 * 365 * 300 {
            let date = Date(timeIntervalSince1970: seconds)
            let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
            var whole = time_t((totalMicros / 1_000_000).rounded(.down))
            var parts = tm()
            gmtime_r(&whole, &parts)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(totalMicros - Double(whole) * 1_000_000))
            #expect(ISODate.format(date) == expected)
            seconds += 7_654_321.123457
        }
    }
}

/// ``JSONValue`` reads what PostgreSQL's `jsonb` writes and writes it back as the encoder would.
@Suite struct JSONValueTests {
    @Test func jsonbTextComesBackAsTheEncodersBytes() throws {
        let postgres = #"{"id": "J1", "b": [1, -2.5e3, true, false, null, {}, []], "#
            + #""A": {"z": "\"\\\/\b\f\n\r\t\u0001\u001f é \ud83d\ude80", "a": ""}}"#
        let value = try JSONValue(parsing: postgres)
        let written = String(decoding: value.jsonBytes, as: UTF8.self)
        #expect(written == #"{"A":{"a":"","z":"\"\\/\b\f\n\r\t\u0001\u001f é 🚀"},"b":[1,-2.5e3,true,false,null,{},[]],"id":"J1"}"#)
    }

    @Test func membersCanBeReplacedAndAdded() throws {
        var value = try JSONValue(parsing: #"{"id": null}"#)
        value["id"] = .string("J1")
        value["owner"] = .string("alice")
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == #"{"id":"J1","owner":"alice"}"#)
    }

    @Test(arguments: ["", "{", #"{"a" 1}"#, "[1,]", #""\x""#, "tru", "1 2", #""\ud83d""#, "\"a\u{1}\""])
    func malformedJSONIsRejected(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }
}
