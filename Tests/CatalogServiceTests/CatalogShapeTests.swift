import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import CatalogService

/// The catalog's answers hold every key of the Rescale docs' and the seed's samples
/// (Tests/Fixtures/rescale), with their JSON types: clients index them with `[...]`.
@Suite struct CatalogShapeTests {
    static let analysisSamples = ["seed-analysis-openfoam.json", "analysis-abaqus.json"]
    static let coreTypeSamples = ["coretype.json", "coretype-test.json"]

    static func get(_ client: any TestClientProtocol, _ path: String) async throws -> JSONValue {
        let response = try await client.execute(uri: "/alice/api/v2/" + path, method: .get, headers: CatalogTestApp.alice)
        #expect(response.status == .ok, "\(path)")
        return try JSONValue(parsing: String(buffer: response.body))
    }

    static func expectShape(_ value: JSONValue, _ sampleName: String, _ what: String) throws {
        let problems = JSONShape.mismatches(of: value, against: try JSONShape.sample(sampleName))
        #expect(problems.isEmpty, "\(what) against \(sampleName): \(problems)")
    }

    static func elements(_ value: JSONValue?) -> [JSONValue] {
        guard case .array(let elements) = value else { return [] }
        return elements
    }

    @Test func analysesHaveEveryKeyOfTheSeedsAndTheDocsAnalyses() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            // One per page, so that `next` is a link as in the sample.
            try Self.expectShape(try await Self.get(client, "analyses/?page_size=1"), "analysis-list.json", "GET analyses/?page_size=1")
            let all = Self.elements(try await Self.get(client, "analyses/")["results"])
            #expect(all.count == 4)
            for analysis in all {
                let code = try #require(analysis["code"]?.stringValue)
                let detail = try await Self.get(client, "analyses/\(code)/")
                for sample in Self.analysisSamples {
                    try Self.expectShape(analysis, sample, "GET analyses/ \(code)")
                    try Self.expectShape(detail, sample, "GET analyses/\(code)/")
                }
            }
        }
    }

    @Test func coreTypesHaveEveryKeyOfTheDocsCoreTypesWithANumericPrice() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            try Self.expectShape(try await Self.get(client, "coretypes/?page_size=1"), "coretype-list.json", "GET coretypes/?page_size=1")
            let all = Self.elements(try await Self.get(client, "coretypes/")["results"])
            #expect(all.count == 9)
            for coreType in all {
                let code = try #require(coreType["code"]?.stringValue)
                let detail = try await Self.get(client, "coretypes/\(code)/")
                for sample in Self.coreTypeSamples {
                    try Self.expectShape(coreType, sample, "GET coretypes/ \(code)")
                    try Self.expectShape(detail, sample, "GET coretypes/\(code)/")
                }
                // Our own key stays.
                #expect(detail["isActive"].map(JSONShape.typeName) == "boolean")
            }
            let standard = try await Self.get(client, "coretypes/standard/")
            guard case .number(let price) = standard["price"] else {
                Issue.record("price is not a JSON number: \(String(describing: standard["price"]))")
                return
            }
            #expect(price == "0.06")
            #expect(standard["lowPriorityPrice"]?.stringValue == "0.06")
            #expect(standard["compute"]?.stringValue == "1.00")
            guard case .bool(true) = standard["isPrimary"] else {
                Issue.record("standard is the primary core type")
                return
            }
        }
    }

    @Test func versionsWriteEveryKeyEvenWhenItHasNoValue() throws {
        let version = Analysis.Version(version: "1", versionCode: "1", allowedCoreTypes: ["standard"])
        let text = String(decoding: try JSONEncoder.simforge().encode(version), as: UTF8.self)
        #expect(text == #"{"allowedCoreTypes":["standard"],"eula":null,"mpiCommand":null,"smpCommand":null,"stdCommand":null,"version":"1","versionCode":"1"}"#)
        let analysis = Analysis(code: "a", name: "A", description: "", vendorName: "", industries: [.init(name: "General")], versions: [version])
        let json = try JSONValue(parsing: String(decoding: try JSONEncoder.simforge().encode(analysis), as: UTF8.self))
        #expect(json["optimizerType"].map(JSONShape.typeName) == "null")
        #expect(json["pricing"]?.stringValue == "")
        #expect(json["thumbnail"]?.stringValue == "")
        #expect(Self.elements(json["industries"]).first?["icon"].map(JSONShape.typeName) == "null")
    }

    /// Support desks, license settings and resources as a catalog file may give them: the
    /// docs' objects, key for key (the shipped catalog has no license settings or desks).
    @Test func deskLicenseAndResourceObjectsHaveTheDocsShape() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).yml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Self.licensedCatalog.write(to: file, atomically: true, encoding: .utf8)
        try await CatalogTestApp.withLiveService(catalogFile: file.path) { client async throws in
            let analysis = try await Self.get(client, "analyses/fea/")
            try Self.expectShape(analysis, "analysis-abaqus.json", "GET analyses/fea/")
            #expect(Self.elements(analysis["supportDesks"]).first?["email"]?.stringValue == "help@simforge.example")
            #expect(Self.elements(analysis["licenseSettings"]).first?["name"]?.stringValue == "LM_LICENSE_FILE")
            #expect(Self.elements(analysis["resources"]).first?["name"]?.stringValue == "Manual")
            #expect(analysis["thumbnail"]?.stringValue == "/static/fea.png")
            #expect(analysis["pricing"]?.stringValue == "0.50 per core-hour")
            guard case .bool(true) = analysis["hasShortTermLicense"] else {
                Issue.record("hasShortTermLicense is not true")
                return
            }
        }
    }

    static let licensedCatalog = """
        coreTypes:
          - {code: standard, name: Standard, description: d, displayOrder: 1, cores: [1], memory: 1000, storage: 10,
             price: "0.10", processorInfo: p}
        analyses:
          - code: fea
            name: FEA
            description: d
            vendorName: Vendor
            industries: [{name: Mechanical, icon: mechanical}]
            versions:
              - {version: "1", versionCode: "1", allowedCoreTypes: [standard], stdCommand: "fea", mpiCommand: "mpirun fea",
                 smpCommand: "fea -t 4"}
            supportDesks: [{code: vendor, displayName: Vendor Support, email: help@simforge.example}]
            hasRescaleLicense: false
            hasShortTermLicense: true
            licenseSettings:
              - {name: LM_LICENSE_FILE, label: License, helpText: "port@host of the FlexNet server", licenseType: Flex, isServer: true}
            pricing: "0.50 per core-hour"
            thumbnail: /static/fea.png
            resources: [{url: "https://example.org/fea.pdf", name: Manual}]
        """
}
