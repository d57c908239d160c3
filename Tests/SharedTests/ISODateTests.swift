import Foundation
import SimforgeModels
import Testing

@Suite struct ISODateTests {
    @Test func formatsWithMicrosecondsAndZ() {
        let date = Date(timeIntervalSince1970: 1_415_830_809.596996)
        #expect(ISODate.format(date) == "2014-11-12T22:20:09.596996Z")
    }

    @Test func formatsWholeSecondsWithSixZeros() {
        #expect(ISODate.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
    }

    @Test func parseRoundTripsItsOwnFormat() throws {
        for text in ["2014-11-12T22:20:09.596996Z", "2026-11-29T03:24:28.000001Z", "1999-12-31T23:59:59.999999Z"] {
            let date = try #require(ISODate.parse(text))
            #expect(ISODate.format(date) == text)
        }
    }

    @Test func parseAppliesOffsets() throws {
        let utc = try #require(ISODate.parse("2020-01-01T12:00:00Z"))
        let plusTwo = try #require(ISODate.parse("2020-01-01T14:00:00+02:00"))
        let minusOneThirty = try #require(ISODate.parse("2020-01-01T10:30:00.000-01:30"))
        #expect(utc == plusTwo)
        #expect(utc == minusOneThirty)
    }

    @Test(arguments: ["", "2020-01-01", "2020-13-01T00:00:00Z", "2020-01-01T00:00:00", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00Zjunk", "yesterday"])
    func parseRejects(_ text: String) {
        #expect(ISODate.parse(text) == nil)
    }

    @Test func jsonCodersUseTheFormat() throws {
        struct Stamp: Codable, Equatable { var at: Date }
        let stamp = Stamp(at: Date(timeIntervalSince1970: 1_415_830_809.596996))
        let json = String(decoding: try JSONEncoder.simforge().encode(stamp), as: UTF8.self)
        #expect(json == #"{"at":"2014-11-12T22:20:09.596996Z"}"#)
        let decoded = try JSONDecoder.simforge().decode(Stamp.self, from: Data(json.utf8))
        #expect(ISODate.format(decoded.at) == "2014-11-12T22:20:09.596996Z")
    }
}
