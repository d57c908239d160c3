import Foundation
import Prometheus
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import CatalogService

/// The public catalog API over loopback, against PostgreSQL, with the shipped catalog.yml.
@Suite struct CatalogAPITests {
    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder.simforge().decode(type, from: Data(buffer: response.body))
    }

    @Test func apiRootLinksEveryResourceUnderTheUsersPrefix() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            var headers = CatalogTestApp.alice
            headers[HTTPField.Name("X-Forwarded-Host")!] = "gw.test"
            headers[HTTPField.Name("X-Forwarded-Port")!] = "8000"
            let response = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: headers)
            #expect(response.status == .ok)
            let root = try Self.decode(APIRoot.self, response)
            #expect(root.analyses == "http://gw.test:8000/alice/api/v2/analyses/")
            #expect(root.coretypes == "http://gw.test:8000/alice/api/v2/coretypes/")
            #expect(root.files == "http://gw.test:8000/alice/api/v2/files/")
            #expect(root.jobs == "http://gw.test:8000/alice/api/v2/jobs/")
            let withoutSlash = try await client.execute(uri: "/alice/api/v2", method: .get, headers: headers)
            #expect(withoutSlash.status == .ok)
        }
    }

    @Test func followingNextWithPageSizeOneReachesEveryAnalysis() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            var seen: [String] = []
            var uri: String? = "/alice/api/v2/analyses/?page_size=1"
            var count = 0
            while let current = uri {
                let response = try await client.execute(uri: current, method: .get, headers: CatalogTestApp.alice)
                #expect(response.status == .ok)
                let page = try Self.decode(Page<Analysis>.self, response)
                count = page.count
                #expect(page.results.count == 1)
                seen += page.results.map(\.code)
                // Links are absolute: keep only the path and query for the test client.
                uri = try page.next.map { next in
                    let url = try #require(URLComponents(string: next))
                    #expect(url.path == "/alice/api/v2/analyses/")
                    #expect(url.queryItems?.contains(URLQueryItem(name: "page_size", value: "1")) == true)
                    return url.path + "?" + (url.percentEncodedQuery ?? "")
                }
            }
            #expect(seen == ["openfoam", "user_included", "python", "calculix"])
            #expect(count == seen.count)
        }
    }

    @Test func analysisDetailHasVersionsAndNoExecutionEnvironment() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/analyses/openfoam/", method: .get, headers: CatalogTestApp.alice)
            #expect(response.status == .ok)
            let analysis = try Self.decode(Analysis.self, response)
            #expect(analysis.name == "OpenFOAM")
            #expect(analysis.versions.map(\.versionCode) == ["v1912"])
            #expect(analysis.versions[0].allowedCoreTypes.contains("hpc"))
            let raw = String(buffer: response.body)
            #expect(!raw.contains("WM_PROJECT_DIR"))
            #expect(!raw.contains("environment"))
        }
    }

    @Test func searchAndCodeFilterAnalyses() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let search = try Self.decode(Page<Analysis>.self,
                try await client.execute(uri: "/alice/api/v2/analyses/?search=FOAM", method: .get, headers: CatalogTestApp.alice))
            #expect(search.results.map(\.code) == ["openfoam"])
            let byDescription = try Self.decode(Page<Analysis>.self,
                try await client.execute(uri: "/alice/api/v2/analyses/?search=finite%20element", method: .get, headers: CatalogTestApp.alice))
            #expect(byDescription.results.map(\.code) == ["calculix"])
            let code = try Self.decode(Page<Analysis>.self,
                try await client.execute(uri: "/alice/api/v2/analyses/?code=python", method: .get, headers: CatalogTestApp.alice))
            #expect(code.count == 1)
            #expect(code.results.first?.versions.first?.versionCode == "3.11")
            let none = try Self.decode(Page<Analysis>.self,
                try await client.execute(uri: "/alice/api/v2/analyses/?search=nothing-like-this", method: .get, headers: CatalogTestApp.alice))
            #expect(none.count == 0)
            #expect(none.results.isEmpty)
        }
    }

    @Test func unknownAnalysisIsNotFoundWithDetail() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/analyses/ansys-fluent/", method: .get, headers: CatalogTestApp.alice)
            #expect(response.status == .notFound)
            #expect(try Self.decode(ErrorDetail.self, response).detail == "Analysis 'ansys-fluent' not found.")
        }
    }

    @Test func coreTypesListTheNineShippedCodesInDisplayOrder() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let page = try Self.decode(Page<CoreType>.self,
                try await client.execute(uri: "/alice/api/v2/coretypes/", method: .get, headers: CatalogTestApp.alice))
            #expect(page.results.map(\.code) == [
                "standard", "standard-plus", "hpc", "hpc-plus", "hi-mem", "hi-mem-hpc", "hi-io", "hi-io-plus", "lo-mem",
            ])
            #expect(page.results.allSatisfy { $0.isActive && !$0.cores.isEmpty && $0.memory > 0 && $0.price > 0 })
            let inactive = try Self.decode(Page<CoreType>.self,
                try await client.execute(uri: "/alice/api/v2/coretypes/?isActive=false", method: .get, headers: CatalogTestApp.alice))
            #expect(inactive.count == 0)
            let bad = try await client.execute(uri: "/alice/api/v2/coretypes/?isActive=maybe", method: .get, headers: CatalogTestApp.alice)
            #expect(bad.status == .badRequest)
            let detail = try Self.decode(CoreType.self,
                try await client.execute(uri: "/alice/api/v2/coretypes/hpc/", method: .get, headers: CatalogTestApp.alice))
            #expect(detail.name == "HPC")
            #expect(detail.cores.contains(64))
            let missing = try await client.execute(uri: "/alice/api/v2/coretypes/gpu-x/", method: .get, headers: CatalogTestApp.alice)
            #expect(missing.status == .notFound)
        }
    }

    @Test func directCallsWithoutConsumerAreUnauthorizedAndOtherUsersForbidden() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let anonymous = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get)
            #expect(anonymous.status == .unauthorized)
            let otherUser = try await client.execute(uri: "/bob/api/v2/analyses/", method: .get, headers: CatalogTestApp.alice)
            #expect(otherUser.status == .forbidden)
        }
    }

    @Test func operationalRoutesAnswer() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body).contains("ready"))
            CatalogTestApp.registry.makeCounter(name: "catalog_test_probe_total").increment(by: Int64(3))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(String(buffer: metrics.body).contains("catalog_test_probe_total 3"))
        }
    }
}
