import Foundation
import SimforgeModels
import SimforgeTestSupport
import Testing

/// The test utility that holds answers against the Rescale samples says exactly what is wrong.
@Suite struct JSONShapeTests {
    static func mismatches(_ actual: String, _ sample: String) throws -> [String] {
        JSONShape.mismatches(of: try JSONValue(parsing: actual), against: try JSONValue(parsing: sample))
    }

    @Test func theSameShapeWithOtherValuesAndExtraKeysPasses() throws {
        #expect(try Self.mismatches(
            #"{"id": "abc", "size": 1.5, "ok": false, "tags": ["x"], "extra": 1}"#,
            #"{"id": "XkpTse", "size": 3, "ok": true, "tags": []}"#) == [])
    }

    @Test func aMissingKeyIsNamedWithItsPath() throws {
        #expect(try Self.mismatches(#"{"file": {"id": "a"}}"#, #"{"file": {"id": "b", "isDeleted": false}, "md5": "x"}"#) == [
            "file.isDeleted: missing", "md5: missing",
        ])
    }

    @Test func aWrongTypeNamesBothTypes() throws {
        #expect(try Self.mismatches(
            #"{"price": "0.1", "cores": {}, "hasSsd": 1, "name": null, "count": true}"#,
            #"{"price": 0.1, "cores": [1], "hasSsd": true, "name": "Marble", "count": 2}"#) == [
                "price: expected number, got string", "cores: expected array, got object", "hasSsd: expected boolean, got number",
                "name: expected string, got null", "count: expected number, got boolean",
            ])
    }

    @Test func everyArrayElementIsHeldAgainstTheSamplesFirst() throws {
        let sample = #"{"jobanalyses": [{"hardware": {"coreSummary": {"numberOfNodes": 1.0}}}, {"hardware": {"coreSummary": {"numberOfNodes": 2}}}]}"#
        let actual = #"{"jobanalyses": [{"hardware": {"coreSummary": {"numberOfNodes": 1}}}, {"hardware": {"coreSummary": {"numberOfNodes": "1"}}}, {"hardware": {}}]}"#
        #expect(try Self.mismatches(actual, sample) == [
            "jobanalyses[1].hardware.coreSummary.numberOfNodes: expected number, got string",
            "jobanalyses[2].hardware.coreSummary: missing",
        ])
        // The sample's other elements count too: a key only they show, null where they show it.
        let history = #"{"results": [{"status": "Completed", "statusReason": "Completed successfully"}, {"status": "Pending", "statusReason": null, "jobId": "a"}]}"#
        #expect(try Self.mismatches(#"{"results": [{"status": "Pending", "statusReason": null, "jobId": "b"}, {"status": 1}]}"#, history) == [
            "results[1].status: expected string, got number", "results[1].statusReason: missing", "results[1].jobId: missing",
        ])
        // An empty sample array says nothing about the elements.
        #expect(try Self.mismatches(#"{"results": [1, "two", null]}"#, #"{"results": []}"#) == [])
        // Arrays at the root are paths too.
        #expect(try Self.mismatches(#"[{"path": 1}]"#, #"[{"path": "a", "resource": "b"}]"#) == [
            "[0].path: expected string, got number", "[0].resource: missing",
        ])
    }

    @Test func nullInTheSampleAllowsAnyValueButTheKeyMustBeThere() throws {
        let sample = #"{"eula": null, "optimizerType": null, "displayOrder": null}"#
        #expect(try Self.mismatches(#"{"eula": null, "optimizerType": {"a": 1}, "displayOrder": 3}"#, sample) == [])
        #expect(try Self.mismatches(#"{"eula": null}"#, sample) == ["optimizerType: missing", "displayOrder: missing"])
    }

    @Test func aWrongRootTypeIsReportedAtTheRoot() throws {
        #expect(try Self.mismatches("[]", #"{"id": "x"}"#) == ["(root): expected object, got array"])
    }

    @Test func everyFixtureParses() throws {
        let folder = RepositoryPaths.fixture("rescale")
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
        #expect(names.count >= 40)
        for name in names {
            let sample = try JSONShape.sample(name)
            // A sample always has its own shape.
            #expect(JSONShape.mismatches(of: sample, against: sample) == [], "\(name)")
        }
        #expect(try JSONShape.mismatches(ofJSON: #"{"typeId": 1}"#, against: "file.json").contains("isDeleted: missing"))
    }
}
