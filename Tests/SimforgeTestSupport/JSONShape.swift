import Foundation
import NIOCore
import SimforgeModels

/// Holds a JSON answer against a sample of the Rescale docs or the seed (Tests/Fixtures/rescale):
/// every key of every sample object must be in the answer, with the sample's JSON type
/// (`number` covers ints and floats), unless the sample's value is `null`, which allows any
/// value. Arrays: each element of the answer against the sample's first element; an empty
/// sample array checks nothing inside. Where the sample's other elements show a key the first
/// lacks, or `null` (or another type) for it, that counts too: the docs' status history has
/// `statusReason` text in its first entry and `null` in the others, so both are right.
/// Keys the sample does not show are fine (our additions).
///
///     let problems = try JSONShape.mismatches(ofJSON: body, against: "file-upload.json")
///     #expect(problems.isEmpty, "\(problems)")
///
/// Each mismatch names its path: `jobanalyses[0].hardware.coreSummary.numberOfNodes: expected
/// number, got string`, `versions[1].eula: missing`.
public enum JSONShape {
    /// A file under Tests/Fixtures/rescale/ (`"file.json"`, `"requests/job-patch-request.json"`), parsed.
    public static func sample(_ name: String) throws -> JSONValue {
        let path = RepositoryPaths.fixture("rescale/" + name)
        return try JSONValue(parsing: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// Every mismatch of `actual` against `sample`, in document order; empty when it has the shape.
    public static func mismatches(of actual: JSONValue, against sample: JSONValue) -> [String] {
        var found: [String] = []
        self.compare(actual, sample, path: "", into: &found)
        return found
    }

    /// ``mismatches(of:against:)`` for a JSON text and a sample fixture's name.
    public static func mismatches(ofJSON actual: String, against sampleName: String) throws -> [String] {
        self.mismatches(of: try JSONValue(parsing: actual), against: try self.sample(sampleName))
    }

    /// ``mismatches(of:against:)`` for a response body and a sample fixture's name.
    public static func mismatches(ofJSON actual: ByteBuffer, against sampleName: String) throws -> [String] {
        try self.mismatches(ofJSON: String(buffer: actual), against: sampleName)
    }

    /// `object`, `array`, `string`, `number`, `boolean` or `null`.
    public static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    private static func compare(_ actual: JSONValue, _ sample: JSONValue, path: String, into found: inout [String]) {
        if case .null = sample { return }
        guard self.typeName(actual) == self.typeName(sample) else {
            found.append("\(self.describe(path)): expected \(self.typeName(sample)), got \(self.typeName(actual))")
            return
        }
        switch (actual, sample) {
        case (.object(let members), .object(let sampleMembers)):
            for (key, sampleValue) in sampleMembers {
                let childPath = path.isEmpty ? key : path + "." + key
                guard let value = members.first(where: { $0.key == key })?.value else {
                    found.append("\(childPath): missing")
                    continue
                }
                self.compare(value, sampleValue, path: childPath, into: &found)
            }
        case (.array(let elements), .array(let sampleElements)):
            guard let first = sampleElements.first else { return }
            let elementSample = sampleElements.dropFirst().reduce(first, self.merge)
            for (index, element) in elements.enumerated() {
                self.compare(element, elementSample, path: path + "[\(index)]", into: &found)
            }
        default:
            break
        }
    }

    /// One sample for two elements of a sample array: the keys of both; `null` (anything)
    /// where either is `null` or their types differ.
    private static func merge(_ first: JSONValue, _ second: JSONValue) -> JSONValue {
        switch (first, second) {
        case (.object(var members), .object(let others)):
            for (key, value) in others {
                if let index = members.firstIndex(where: { $0.key == key }) {
                    members[index].value = self.merge(members[index].value, value)
                } else {
                    members.append((key, value))
                }
            }
            return .object(members)
        case (.array(let elements), .array(let others)):
            return .array(elements + others)
        default:
            return self.typeName(first) == self.typeName(second) ? first : .null
        }
    }

    private static func describe(_ path: String) -> String {
        path.isEmpty ? "(root)" : path
    }
}
