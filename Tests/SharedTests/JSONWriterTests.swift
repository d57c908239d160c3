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
