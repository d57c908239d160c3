import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import CatalogService

/// Applying catalog.yml to the tables: idempotent, removals deactivate, bad files refused.
@Suite struct CatalogContentTests {
    static let logger = Logger(label: "catalog-content-test")

    static func withRepository(_ body: @escaping @Sendable (CatalogPostgresRepository) async throws -> Void) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                try await CatalogMigrations.runner.run(on: client, logger: logger)
                try await body(CatalogPostgresRepository(client: client))
            }
        }
    }

    static func shipped() throws -> CatalogDefinition {
        try CatalogDefinition.load(path: RepositoryPaths.file("deploy/catalog.yml"))
    }

    @Test func shippedCatalogHasTheRequiredEntries() throws {
        let definition = try Self.shipped()
        #expect(Set(definition.coreTypes.map(\.code)) == [
            "standard", "standard-plus", "hpc", "hpc-plus", "hi-mem", "hi-mem-hpc", "hi-io", "hi-io-plus", "lo-mem",
        ])
        let codes = definition.analyses.map(\.code)
        #expect(codes.contains("openfoam"))
        #expect(codes.contains("user_included"))
        let openfoam = try #require(definition.analyses.first { $0.code == "openfoam" })
        #expect(openfoam.versions.first?.environment?["WM_PROJECT_DIR"] == "/usr/share/openfoam")
    }

    @Test func applyingTwiceChangesNothing() async throws {
        try await Self.withRepository { repository async throws in
            let definition = try Self.shipped()
            try await repository.apply(definition, logger: Self.logger)
            let first = try await repository.analyses(search: nil, code: nil, page: try PageRequest(page: 1, pageSize: 100), logger: Self.logger)
            try await repository.apply(definition, logger: Self.logger)
            let second = try await repository.analyses(search: nil, code: nil, page: try PageRequest(page: 1, pageSize: 100), logger: Self.logger)
            #expect(first.count == definition.analyses.count)
            #expect(first.items == second.items)
            #expect(try await CatalogMigrations.runner.run(on: repository.client, logger: Self.logger) == [])
        }
    }

    @Test func removedEntriesBecomeInactiveAndComeBackWhenReadded() async throws {
        try await Self.withRepository { repository async throws in
            let full = try Self.shipped()
            try await repository.apply(full, logger: Self.logger)

            var reduced = full
            reduced.analyses.removeAll { $0.code == "calculix" }
            reduced.coreTypes.removeAll { $0.code == "lo-mem" }
            for index in reduced.analyses.indices { reduced.analyses[index].versions = reduced.analyses[index].versions.map { version in
                var version = version
                version.allowedCoreTypes.removeAll { $0 == "lo-mem" }
                return version
            } }
            let openfoamIndex = try #require(reduced.analyses.firstIndex { $0.code == "openfoam" })
            var newer = reduced.analyses[openfoamIndex].versions[0]
            newer.version = "v2306"
            newer.versionCode = "v2306"
            reduced.analyses[openfoamIndex].versions.insert(newer, at: 0)
            reduced.analyses[openfoamIndex].versions.removeLast()  // drops v1912
            try await repository.apply(reduced, logger: Self.logger)

            #expect(try await repository.analysis(code: "calculix", logger: Self.logger) == nil)
            let lowMemory = try #require(try await repository.coreType(code: "lo-mem", logger: Self.logger))
            #expect(!lowMemory.isActive)
            let inactive = try await repository.coreTypes(isActive: false, page: try PageRequest(page: 1, pageSize: 100), logger: Self.logger)
            #expect(inactive.items.map(\.code) == ["lo-mem"])
            let openfoam = try #require(try await repository.analysis(code: "openfoam", logger: Self.logger))
            #expect(openfoam.versions.map(\.versionCode) == ["v2306"])
            let removedVersion = try #require(try await repository.analysisVersion(analysisCode: "openfoam", versionCode: "v1912", logger: Self.logger))
            #expect(!removedVersion.isActive)

            try await repository.apply(full, logger: Self.logger)
            #expect(try await repository.analysis(code: "calculix", logger: Self.logger) != nil)
            #expect(try await repository.coreType(code: "lo-mem", logger: Self.logger)?.isActive == true)
            let restored = try #require(try await repository.analysis(code: "openfoam", logger: Self.logger))
            // v2306 is no longer in the file; v1912 is back.
            #expect(restored.versions.map(\.versionCode) == ["v1912"])
        }
    }

    @Test func versionsAreNewestFirstAsListed() async throws {
        try await Self.withRepository { repository async throws in
            var definition = try Self.shipped()
            let index = try #require(definition.analyses.firstIndex { $0.code == "python" })
            var older = definition.analyses[index].versions[0]
            older.version = "3.9"
            older.versionCode = "3.9"
            definition.analyses[index].versions.append(older)
            try await repository.apply(definition, logger: Self.logger)
            let python = try #require(try await repository.analysis(code: "python", logger: Self.logger))
            #expect(python.versions.map(\.versionCode) == ["3.11", "3.9"])
        }
    }

    @Test func invalidCatalogFileListsEveryProblem() {
        let text = """
            coreTypes:
              - {code: small, name: Small, description: d, displayOrder: 1, cores: [], memory: 1, storage: 1, price: "cheap", processorInfo: p}
            analyses:
              - code: solver
                name: Solver
                description: d
                vendorName: v
                versions:
                  - {version: "1", versionCode: "1", allowedCoreTypes: [small, huge]}
                  - {version: "1b", versionCode: "1", allowedCoreTypes: [small]}
            """
        do {
            _ = try CatalogDefinition.parse(text, source: "test.yml")
            Issue.record("expected the file to be refused")
        } catch {
            let message = "\(error)"
            #expect(message.contains("cores must be a non-empty list"))
            #expect(message.contains("price 'cheap' is not a decimal number"))
            #expect(message.contains("allows unknown core type 'huge'"))
            #expect(message.contains("version of 'solver' '1' appears twice"))
        }
    }

    @Test func invalidDocsFieldsAreListedTooEveryOne() {
        let text = """
            coreTypes:
              - {code: a, name: A, description: d, displayOrder: 1, cores: [1], memory: 1, storage: 1, price: "0.1", processorInfo: p,
                 isPrimary: true, lowPriorityPrice: "half", compute: "fast"}
              - {code: b, name: B, description: d, displayOrder: 2, cores: [1], memory: 1, storage: 1, price: "0.1", processorInfo: p,
                 isPrimary: true}
            analyses:
              - code: solver
                name: Solver
                description: d
                vendorName: v
                versions: [{version: "1", versionCode: "1", allowedCoreTypes: [a]}]
                supportDesks: [{code: desk, displayName: Desk, email: nobody}]
                licenseSettings: [{name: "LM LICENSE", label: L, helpText: h, licenseType: Flex, isServer: true}]
                resources: [{url: "ftp://example.org/manual", name: Manual}]
            """
        do {
            _ = try CatalogDefinition.parse(text, source: "test.yml")
            Issue.record("expected the file to be refused")
        } catch {
            let message = "\(error)"
            #expect(message.contains("lowPriorityPrice 'half' is not a decimal number"))
            #expect(message.contains("compute 'fast' is not a decimal number"))
            #expect(message.contains("only one core type may be primary, not a, b"))
            #expect(message.contains("support desk 'desk' needs a code, a display name and an email address"))
            #expect(message.contains("license setting 'LM LICENSE' is not an environment variable name"))
            #expect(message.contains("resource 'ftp://example.org/manual' needs an http(s) URL and a name"))
        }
    }

    /// Rows written before migration 2 (lists of strings, null pricing) read as the docs' objects.
    @Test func olderRowsBecomeTheDocsObjects() async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                let first = MigrationRunner(schema: "catalog", migrations: [CatalogMigrations.runner.migrations[0]])
                #expect(try await first.run(on: client, logger: Self.logger) == [1])
                try await client.query(
                    """
                    INSERT INTO catalog.core_types (code, name, description, display_order, is_active, is_deprecated, cores,
                        memory_mb_per_core, storage_gb_per_core, price, processor_info, walltime_required)
                    VALUES ('old', 'Old', 'd', 1, true, false, '{1}', 1000, 10, '0.05', 'p', false)
                    """, logger: Self.logger
                ).drain()
                try await client.query(
                    """
                    INSERT INTO catalog.analyses (code, name, description, vendor_name, industries, support_desks, has_rescale_license,
                        license_settings, pricing, optimizer_type, thumbnail, resources, display_order, is_active)
                    VALUES ('solver', 'Solver', 'd', 'v', '[]', '["help desk"]', false, '["LM_LICENSE_FILE"]', NULL, NULL, NULL,
                        '["https://example.org/a", "https://example.org/b"]', 0, true)
                    """, logger: Self.logger
                ).drain()
                #expect(try await CatalogMigrations.runner.run(on: client, logger: Self.logger) == [2])

                let repository = CatalogPostgresRepository(client: client)
                let coreType = try #require(try await repository.coreType(code: "old", logger: Self.logger))
                #expect(coreType.price == Decimal(string: "0.05"))
                #expect(coreType.lowPriorityPrice == "0.05")
                #expect(!coreType.hasSsd && !coreType.isPrimary && coreType.io == "")
                let analyses = try await repository.analyses(search: nil, code: "solver", page: try PageRequest(page: 1, pageSize: 10), logger: Self.logger)
                let analysis = try #require(analyses.items.first)
                #expect(analysis.supportDesks == [.init(code: "help desk", displayName: "help desk", email: "")])
                #expect(analysis.licenseSettings.map(\.name) == ["LM_LICENSE_FILE"])
                #expect(analysis.resources == [.init(url: "https://example.org/a", name: "https://example.org/a"),
                                               .init(url: "https://example.org/b", name: "https://example.org/b")])
                #expect(analysis.pricing == "" && analysis.thumbnail == "" && !analysis.hasShortTermLicense)
            }
        }
    }
}
