import Hummingbird
import SimforgeModels
import SimforgeServer

/// Internal routes for the jobs service (validation) and the job agent (environment).
struct InternalCatalogController<Repository: CatalogRepository> {
    let repository: Repository

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/analyses/{code}/versions", use: self.analysisVersions)
        group.get("/analyses/{code}/versions/{versionCode}", use: self.analysisVersion)
        group.get("/coretypes/{code}", use: self.coreType)
    }

    @Sendable func analysisVersion(_ request: Request, context: SimforgeRequestContext) async throws -> AnalysisVersionEnvironment {
        let code = try context.parameters.require("code")
        let versionCode = try context.parameters.require("versionCode")
        guard let version = try await self.repository.analysisVersion(analysisCode: code, versionCode: versionCode, logger: context.logger) else {
            throw APIError.notFound("Version '\(versionCode)' of analysis '\(code)' not found.")
        }
        return version
    }

    /// Every version, newest first; 404 for an analysis the catalog does not have.
    @Sendable func analysisVersions(_ request: Request, context: SimforgeRequestContext) async throws -> [AnalysisVersionEnvironment] {
        let code = try context.parameters.require("code")
        let versions = try await self.repository.analysisVersions(analysisCode: code, logger: context.logger)
        guard !versions.isEmpty else { throw APIError.notFound("Analysis '\(code)' not found.") }
        return versions
    }

    @Sendable func coreType(_ request: Request, context: SimforgeRequestContext) async throws -> CoreType {
        let code = try context.parameters.require("code")
        guard let coreType = try await self.repository.coreType(code: code, logger: context.logger) else {
            throw APIError.notFound("Core type '\(code)' not found.")
        }
        return coreType
    }
}
