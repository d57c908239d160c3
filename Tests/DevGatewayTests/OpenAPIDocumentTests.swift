import Foundation
import SimforgeTestSupport
import Testing
import Yams
@testable import DevGateway

/// deploy/openapi.yaml documents every route of API.md, each with the service kong.yml
/// routes it to, and holds together (every reference resolves, every path parameter is
/// declared, every error has the API's error shape). Tests/curl/openapi-check.py checks it
/// against the running services and with openapi-spec-validator.
@Suite struct OpenAPIDocumentTests {
    static let methods = ["get", "post", "patch", "delete", "head", "put", "options"]

    static func document() throws -> [String: Any] {
        let text = try String(contentsOfFile: RepositoryPaths.file("deploy/openapi.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func operations() throws -> [(path: String, method: String, operation: [String: Any], pathItem: [String: Any])] {
        let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
        return paths.flatMap { path, item in
            Self.methods.compactMap { method in
                (item[method] as? [String: Any]).map { (path, method, $0, item) }
            }
        }
    }

    @Test func isOpenAPI3WithTheTokenScheme() throws {
        let document = try Self.document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
        let servers = try #require(document["servers"] as? [[String: Any]])
        #expect((servers.first?["url"] as? String)?.hasSuffix("/{userId}/api/v2") == true)
        let scheme = try #require(((document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])?["token"] as? [String: Any])
        #expect(scheme["type"] as? String == "apiKey" && scheme["in"] as? String == "header" && scheme["name"] as? String == "Authorization")
    }

    @Test func documentsExactlyTheRoutesOfAPIMd() throws {
        let documented = Set(try Self.operations().map { "\($0.method.uppercased()) \($0.path)" })
        let expected = Set(APIRoutes.all.map { "\($0.method) /\($0.template)" })
        #expect(documented.subtracting(expected).isEmpty, "not in API.md: \(documented.subtracting(expected).sorted())")
        #expect(expected.subtracting(documented).isEmpty, "missing: \(expected.subtracting(documented).sorted())")
    }

    @Test func eachOperationNamesTheServiceKongRoutesItTo() throws {
        let table = try DeploymentTests.table()
        let owners = Dictionary(APIRoutes.all.map { ("\($0.method) /\($0.template)", $0.service) }, uniquingKeysWith: { a, _ in a })
        var operationIds = Set<String>()
        for (path, method, operation, _) in try Self.operations() {
            let service = try #require(operation["x-simforge-service"] as? String, "\(method) \(path): x-simforge-service")
            #expect(owners["\(method.uppercased()) \(path)"] == service, "\(method) \(path)")
            let route = APIRoutes.Route(method: method.uppercased(), template: String(path.dropFirst()), service: service)
            #expect(table.match(method: route.method, path: "/alice/api/v2/" + route.samplePath)?.serviceName == service, "\(method) \(path)")
            let operationId = try #require(operation["operationId"] as? String)
            #expect(operationIds.insert(operationId).inserted, "operationId \(operationId) twice")
        }
    }

    @Test func everyOperationAnswersAuthErrorsAndASuccess() throws {
        for (path, method, operation, _) in try Self.operations() {
            let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
            let codes = Set(responses.keys)
            #expect(codes.isSuperset(of: ["401", "403", "429"]), "\(method) \(path): \(codes.sorted())")
            #expect(codes.contains { $0.hasPrefix("2") }, "\(method) \(path): no success response")
            #expect(!codes.contains("default"), "\(method) \(path): list the codes, no default")
        }
    }

    @Test func errorResponsesHaveTheAPIsErrorShape() throws {
        let document = try Self.document()
        for (path, method, operation, _) in try Self.operations() where method != "head" {
            for (code, response) in try #require(operation["responses"] as? [String: Any]) where code.hasPrefix("4") || code.hasPrefix("5") {
                let resolved = try Self.resolve(response, in: document)
                let schema = try #require(
                    ((resolved["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any],
                    "\(method) \(path) \(code): no JSON body")
                let refs = Self.references(in: schema)
                #expect(refs.contains("#/components/schemas/Error"), "\(method) \(path) \(code): \(refs)")
            }
        }
    }

    @Test func everyPathParameterIsDeclared() throws {
        let document = try Self.document()
        for (path, method, operation, item) in try Self.operations() {
            let names = path.matches(of: /\{([A-Za-z]+)\}/).map { String($0.output.1) }
            let listed = ((item["parameters"] as? [Any]) ?? []) + ((operation["parameters"] as? [Any]) ?? [])
            let declared = try listed.map { try Self.resolve($0, in: document) }
            let pathParameters = Set(declared.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
            #expect(pathParameters == Set(names), "\(method) \(path): declared \(pathParameters.sorted()), in path \(names)")
        }
    }

    @Test func everyReferenceResolves() throws {
        let document = try Self.document()
        let refs = Self.references(in: document)
        #expect(refs.count > 50)
        for ref in refs {
            #expect(ref.hasPrefix("#/"), "\(ref) is not local")
            var node: Any? = document
            for part in ref.dropFirst(2).split(separator: "/") {
                node = (node as? [String: Any])?[String(part)]
            }
            #expect(node != nil, "\(ref) does not resolve")
        }
    }

    @Test func theObjectsCarryAPIMdsFields() throws {
        let schemas = try #require((try Self.document()["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        func required(_ name: String) throws -> Set<String> {
            Set(try #require(schemas[name]?["required"] as? [String], "\(name).required"))
        }
        #expect(try required("File").isSuperset(of: ["id", "typeId", "name", "dateUploaded", "relativePath", "path", "encodedEncryptionKey",
                                                      "sharedWith", "decryptedSize", "owner", "isUploaded", "viewInBrowser", "md5", "downloadUrl",
                                                      "isDeleted"]))
        #expect(try required("Analysis") == ["code", "name", "description", "vendorName", "industries", "versions", "supportDesks",
                                             "hasRescaleLicense", "hasShortTermLicense", "licenseSettings", "pricing", "optimizerType",
                                             "thumbnail", "resources"])
        #expect(try required("AnalysisVersion") == ["version", "versionCode", "allowedCoreTypes", "stdCommand", "mpiCommand", "smpCommand",
                                                    "eula"])
        #expect(try required("CoreType") == ["code", "name", "description", "displayOrder", "isActive", "isDeprecated", "isPrimary", "cores",
                                             "memory", "storage", "hasSsd", "storageIo", "io", "compute", "price", "lowPriorityPrice",
                                             "processorInfo", "walltimeRequired", "remoteVizAllowed"])
        #expect(try required("JobStatus") == ["status", "statusDate", "statusReason"])
        #expect(try required("Run").isSuperset(of: ["id", "type", "displayOrder", "dateStarted", "dateCompleted", "isOptimal",
                                                     "outputFileCount", "outputFileSize", "parent", "variables", "exitCode"]))
        #expect(try required("JobSummary") == ["id", "name", "owner", "dateInserted", "analysisNames", "jobStatus", "clusterStatusDisplay",
                                               "sharedWith", "storage", "isVisible"])
        #expect(try required("Job").isSuperset(of: ["id", "owner", "name", "jobanalyses", "jobvariables", "paramFile", "caseFile",
                                                     "monteCarloIterations", "includeNominalRun", "isTemplateDryRun", "resourceFilters",
                                                     "archiveFilters", "remoteVizConfig", "optimizer", "expectedRuns"]))
        #expect(try required("Run").isSuperset(of: ["status", "statusReason"]))
        #expect(try required("PageMeta") == ["count", "next", "previous", "results"])
        #expect(try required("Error") == ["detail"])
        let statuses = ((schemas["JobStatus"]?["properties"] as? [String: Any])?["status"] as? [String: Any])?["enum"] as? [String]
        #expect(statuses == ["Pending", "Queued", "Started", "Validated", "Executing", "Stopping", "Completed"])
    }

    // MARK: - Helpers

    /// A `$ref` object replaced by what it points at (one level).
    static func resolve(_ node: Any, in document: [String: Any]) throws -> [String: Any] {
        let object = try #require(node as? [String: Any])
        guard let ref = object["$ref"] as? String else { return object }
        var target: Any? = document
        for part in ref.dropFirst(2).split(separator: "/") {
            target = (target as? [String: Any])?[String(part)]
        }
        return try #require(target as? [String: Any], "\(ref) does not resolve")
    }

    /// Every `$ref` value under `node`.
    static func references(in node: Any) -> [String] {
        if let object = node as? [String: Any] {
            var refs = object.values.flatMap { Self.references(in: $0) }
            if let ref = object["$ref"] as? String { refs.append(ref) }
            return refs
        }
        if let array = node as? [Any] {
            return array.flatMap { Self.references(in: $0) }
        }
        return []
    }
}
