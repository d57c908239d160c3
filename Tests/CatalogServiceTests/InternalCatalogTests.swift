import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import CatalogService

/// The internal routes the jobs service and the job agent use.
@Suite struct InternalCatalogTests {
    static let token: HTTPFields = [HTTPField.Name("X-Internal-Token")!: CatalogTestApp.internalToken]

    @Test func analysisVersionCarriesItsExecutionEnvironment() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let response = try await client.execute(uri: "/internal/analyses/openfoam/versions/v1912", method: .get, headers: Self.token)
            #expect(response.status == .ok)
            let version = try JSONDecoder.simforge().decode(AnalysisVersionEnvironment.self, from: Data(buffer: response.body))
            #expect(version.environment["WM_PROJECT_DIR"] == "/usr/share/openfoam")
            #expect(version.isActive)
            #expect(version.allowedCoreTypes.count == 9)
            let missing = try await client.execute(uri: "/internal/analyses/openfoam/versions/v1", method: .get, headers: Self.token)
            #expect(missing.status == .notFound)
        }
    }

    @Test func coreTypeByCode() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let response = try await client.execute(uri: "/internal/coretypes/hi-mem", method: .get, headers: Self.token)
            let coreType = try JSONDecoder.simforge().decode(CoreType.self, from: Data(buffer: response.body))
            #expect(coreType.memory == 16000)
        }
    }

    @Test func internalRoutesRefuseCallersWithoutTheToken() async throws {
        try await CatalogTestApp.withLiveService { client async throws in
            let anonymous = try await client.execute(uri: "/internal/coretypes/hpc", method: .get)
            #expect(anonymous.status == .unauthorized)
            // A consumer header is no substitute for the internal token.
            let consumer = try await client.execute(uri: "/internal/coretypes/hpc", method: .get, headers: CatalogTestApp.alice)
            #expect(consumer.status == .unauthorized)
        }
    }
}
