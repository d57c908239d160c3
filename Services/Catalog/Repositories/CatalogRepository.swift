import Logging
import SimforgeModels
import SimforgeServer

/// What the catalog stores and serves. Implemented on PostgreSQL by ``CatalogPostgresRepository``.
protocol CatalogRepository: Sendable {
    /// Makes the tables match `definition`: upserts every entry, marks entries that are
    /// no longer in it inactive. Idempotent.
    func apply(_ definition: CatalogDefinition, logger: Logger) async throws

    /// Active analyses, optionally only `code`, optionally whose name, code or
    /// description contains `search` (case-insensitive); one page and the total count.
    func analyses(search: String?, code: String?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [Analysis])

    /// An active analysis with its active versions, newest first.
    func analysis(code: String, logger: Logger) async throws -> Analysis?

    /// Core types, optionally only active or inactive ones; one page and the total count.
    func coreTypes(isActive: Bool?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [CoreType])

    func coreType(code: String, logger: Logger) async throws -> CoreType?

    /// One version of an analysis with its execution environment, active or not.
    func analysisVersion(analysisCode: String, versionCode: String, logger: Logger) async throws -> AnalysisVersionEnvironment?

    /// Every version of an analysis, active or not, newest first (as the analysis lists them).
    func analysisVersions(analysisCode: String, logger: Logger) async throws -> [AnalysisVersionEnvironment]
}
