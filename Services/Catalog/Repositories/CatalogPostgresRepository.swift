import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

/// ``CatalogRepository`` on the `catalog` schema. List-valued fields are `jsonb`, read
/// back as text and decoded here.
struct CatalogPostgresRepository: CatalogRepository {
    let client: PostgresClient

    func apply(_ definition: CatalogDefinition, logger: Logger) async throws {
        try await self.client.withTransaction(logger: logger) { connection in
            // Replicas starting together apply one after the other.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('catalog.apply'))", logger: logger).drain()
            for (index, coreType) in definition.coreTypes.enumerated() {
                try await connection.query(Self.upsert(coreType, fallbackOrder: index), logger: logger).drain()
            }
            let coreTypeCodes = definition.coreTypes.map(\.code)
            try await connection.query(
                "UPDATE catalog.core_types SET is_active = false, updated_at = now() WHERE is_active AND NOT (code = ANY(\(coreTypeCodes)))",
                logger: logger
            ).drain()

            for (index, analysis) in definition.analyses.enumerated() {
                try await connection.query(try Self.upsert(analysis, order: index), logger: logger).drain()
                for (versionIndex, version) in analysis.versions.enumerated() {
                    try await connection.query(try Self.upsert(version, of: analysis.code, order: versionIndex), logger: logger).drain()
                }
                let versionCodes = analysis.versions.map(\.versionCode)
                try await connection.query(
                    """
                    UPDATE catalog.analysis_versions SET is_active = false, updated_at = now()
                    WHERE analysis_code = \(analysis.code) AND is_active AND NOT (version_code = ANY(\(versionCodes)))
                    """,
                    logger: logger
                ).drain()
            }
            let analysisCodes = definition.analyses.map(\.code)
            try await connection.query(
                "UPDATE catalog.analyses SET is_active = false, updated_at = now() WHERE is_active AND NOT (code = ANY(\(analysisCodes)))",
                logger: logger
            ).drain()
            try await connection.query(
                """
                UPDATE catalog.analysis_versions SET is_active = false, updated_at = now()
                WHERE is_active AND NOT (analysis_code = ANY(\(analysisCodes)))
                """,
                logger: logger
            ).drain()
        }
    }

    func analyses(search: String?, code: String?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [Analysis]) {
        let filter = "a.is_active AND ($1::text IS NULL OR a.code = $1) AND ($2::text IS NULL OR strpos(lower(a.name || ' ' || a.code || ' ' || a.description), lower($2)) > 0)"
        var filterBinds = PostgresBindings()
        filterBinds.append(code)
        filterBinds.append(search)
        let count = try await self.client.count(from: "catalog.analyses a", where: filter, binds: filterBinds, logger: logger)

        var pageBinds = filterBinds
        pageBinds.append(page.limit)
        pageBinds.append(page.offset)
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "\(Self.analysisColumns) WHERE \(filter) ORDER BY a.display_order, a.code LIMIT $3 OFFSET $4", binds: pageBinds),
            logger: logger)
        var analyses = try await Self.decodeAnalyses(rows)
        let versions = try await self.versions(of: analyses.map(\.code), logger: logger)
        for index in analyses.indices {
            analyses[index].versions = versions[analyses[index].code] ?? []
        }
        return (count, analyses)
    }

    func analysis(code: String, logger: Logger) async throws -> Analysis? {
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "\(Self.analysisColumns) WHERE a.is_active AND a.code = $1", binds: Self.binds(code)), logger: logger)
        guard var analysis = try await Self.decodeAnalyses(rows).first else { return nil }
        analysis.versions = try await self.versions(of: [code], logger: logger)[code] ?? []
        return analysis
    }

    func coreTypes(isActive: Bool?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [CoreType]) {
        var binds = PostgresBindings()
        binds.append(isActive)
        let filter = "$1::boolean IS NULL OR is_active = $1"
        let count = try await self.client.count(from: "catalog.core_types", where: filter, binds: binds, logger: logger)
        binds.append(page.limit)
        binds.append(page.offset)
        let rows = try await self.client.query(
            PostgresQuery(
                unsafeSQL: "\(Self.coreTypeColumns) WHERE \(filter) ORDER BY display_order, code LIMIT $2 OFFSET $3",
                binds: binds),
            logger: logger)
        return (count, try await Self.decodeCoreTypes(rows))
    }

    func coreType(code: String, logger: Logger) async throws -> CoreType? {
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "\(Self.coreTypeColumns) WHERE code = $1", binds: Self.binds(code)), logger: logger)
        return try await Self.decodeCoreTypes(rows).first
    }

    func analysisVersion(analysisCode: String, versionCode: String, logger: Logger) async throws -> AnalysisVersionEnvironment? {
        let rows = try await self.client.query(
            """
            SELECT a.code, a.name, v.version, v.version_code, v.allowed_core_types, v.is_active AND a.is_active, v.environment::text
            FROM catalog.analysis_versions v JOIN catalog.analyses a ON a.code = v.analysis_code
            WHERE v.analysis_code = \(analysisCode) AND v.version_code = \(versionCode)
            """,
            logger: logger)
        return try await Self.decodeVersions(rows).first
    }

    func analysisVersions(analysisCode: String, logger: Logger) async throws -> [AnalysisVersionEnvironment] {
        let rows = try await self.client.query(
            """
            SELECT a.code, a.name, v.version, v.version_code, v.allowed_core_types, v.is_active AND a.is_active, v.environment::text
            FROM catalog.analysis_versions v JOIN catalog.analyses a ON a.code = v.analysis_code
            WHERE v.analysis_code = \(analysisCode)
            ORDER BY v.display_order
            """,
            logger: logger)
        return try await Self.decodeVersions(rows)
    }

    private static func decodeVersions(_ rows: PostgresRowSequence) async throws -> [AnalysisVersionEnvironment] {
        var versions: [AnalysisVersionEnvironment] = []
        for try await (code, name, version, versionCode, allowed, isActive, environment)
            in rows.decode((String, String, String, String, [String], Bool, String).self) {
            versions.append(AnalysisVersionEnvironment(
                analysisCode: code, analysisName: name, version: version, versionCode: versionCode,
                allowedCoreTypes: allowed, isActive: isActive, environment: try Self.decodeJSON(environment)))
        }
        return versions
    }

    // MARK: - Rows

    private static let analysisColumns = """
        SELECT a.code, a.name, a.description, a.vendor_name, a.industries::text, a.support_desks::text,
               a.has_rescale_license, a.has_short_term_license, a.license_settings::text, a.pricing, a.optimizer_type, a.thumbnail,
               a.resources::text
        FROM catalog.analyses a
        """

    private static let coreTypeColumns = """
        SELECT code, name, description, display_order, is_active, is_deprecated, is_primary, cores, memory_mb_per_core,
               storage_gb_per_core, has_ssd, storage_io, io, compute, price, low_priority_price, processor_info, walltime_required,
               remote_viz_allowed
        FROM catalog.core_types
        """

    private static func decodeAnalyses(_ rows: PostgresRowSequence) async throws -> [Analysis] {
        var analyses: [Analysis] = []
        for try await (code, name, description, vendor, industries, supportDesks, hasLicense, hasShortTermLicense, licenseSettings, pricing,
                       optimizer, thumbnail, resources)
            in rows.decode((String, String, String, String, String, String, Bool, Bool, String, String, String?, String, String).self) {
            analyses.append(Analysis(
                code: code, name: name, description: description, vendorName: vendor,
                industries: try decodeJSON(industries), versions: [],
                supportDesks: try decodeJSON(supportDesks), hasRescaleLicense: hasLicense, hasShortTermLicense: hasShortTermLicense,
                licenseSettings: try decodeJSON(licenseSettings), pricing: pricing, optimizerType: optimizer,
                thumbnail: thumbnail, resources: try decodeJSON(resources)))
        }
        return analyses
    }

    private static func decodeCoreTypes(_ rows: PostgresRowSequence) async throws -> [CoreType] {
        var coreTypes: [CoreType] = []
        for try await (code, name, description, order, isActive, isDeprecated, isPrimary, cores, memory, storage, hasSsd, storageIo, io,
                       compute, price, lowPriorityPrice, processor, walltimeRequired, remoteVizAllowed)
            in rows.decode((String, String, String, Int, Bool, Bool, Bool, [Int], Int, Int, Bool, String, String, String, String, String, String,
                            Bool, Bool).self) {
            coreTypes.append(CoreType(
                code: code, name: name, description: description, displayOrder: order, isActive: isActive,
                isDeprecated: isDeprecated, isPrimary: isPrimary, cores: cores, memory: memory, storage: storage, hasSsd: hasSsd,
                storageIo: storageIo, io: io, compute: compute, price: Decimal(string: price) ?? 0, lowPriorityPrice: lowPriorityPrice,
                processorInfo: processor, walltimeRequired: walltimeRequired, remoteVizAllowed: remoteVizAllowed))
        }
        return coreTypes
    }

    /// Active versions of the given analyses, newest first.
    private func versions(of codes: [String], logger: Logger) async throws -> [String: [Analysis.Version]] {
        guard !codes.isEmpty else { return [:] }
        let rows = try await self.client.query(
            """
            SELECT analysis_code, version, version_code, allowed_core_types, std_command, mpi_command, smp_command, eula
            FROM catalog.analysis_versions
            WHERE is_active AND analysis_code = ANY(\(codes))
            ORDER BY analysis_code, display_order
            """,
            logger: logger)
        var versions: [String: [Analysis.Version]] = [:]
        for try await (code, version, versionCode, allowed, std, mpi, smp, eula)
            in rows.decode((String, String, String, [String], String?, String?, String?, String?).self) {
            versions[code, default: []].append(Analysis.Version(
                version: version, versionCode: versionCode, allowedCoreTypes: allowed,
                stdCommand: std, mpiCommand: mpi, smpCommand: smp, eula: eula))
        }
        return versions
    }

    // MARK: - Upserts

    private static func upsert(_ coreType: CatalogDefinition.CoreTypeEntry, fallbackOrder: Int) -> PostgresQuery {
        """
        INSERT INTO catalog.core_types (code, name, description, display_order, is_active, is_deprecated, is_primary, cores,
            memory_mb_per_core, storage_gb_per_core, has_ssd, storage_io, io, compute, price, low_priority_price, processor_info,
            walltime_required, remote_viz_allowed)
        VALUES (\(coreType.code), \(coreType.name), \(coreType.description), \(coreType.displayOrder), true,
            \(coreType.isDeprecated ?? false), \(coreType.isPrimary ?? false), \(coreType.cores), \(coreType.memory), \(coreType.storage),
            \(coreType.hasSsd ?? false), \(coreType.storageIo ?? ""), \(coreType.io ?? ""), \(coreType.compute ?? ""), \(coreType.price),
            \(coreType.lowPriorityPrice ?? coreType.price), \(coreType.processorInfo), \(coreType.walltimeRequired ?? false),
            \(coreType.remoteVizAllowed ?? false))
        ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description,
            display_order = excluded.display_order, is_active = true, is_deprecated = excluded.is_deprecated,
            is_primary = excluded.is_primary, cores = excluded.cores, memory_mb_per_core = excluded.memory_mb_per_core,
            storage_gb_per_core = excluded.storage_gb_per_core, has_ssd = excluded.has_ssd, storage_io = excluded.storage_io,
            io = excluded.io, compute = excluded.compute, price = excluded.price, low_priority_price = excluded.low_priority_price,
            processor_info = excluded.processor_info, walltime_required = excluded.walltime_required,
            remote_viz_allowed = excluded.remote_viz_allowed, updated_at = now()
        """
    }

    private static func upsert(_ analysis: CatalogDefinition.AnalysisEntry, order: Int) throws -> PostgresQuery {
        let industries = try encodeJSON(analysis.industries ?? [])
        let supportDesks = try encodeJSON(analysis.supportDesks ?? [])
        let licenseSettings = try encodeJSON(analysis.licenseSettings ?? [])
        let resources = try encodeJSON(analysis.resources ?? [])
        return """
            INSERT INTO catalog.analyses (code, name, description, vendor_name, industries, support_desks, has_rescale_license,
                has_short_term_license, license_settings, pricing, optimizer_type, thumbnail, resources, display_order, is_active)
            VALUES (\(analysis.code), \(analysis.name), \(analysis.description), \(analysis.vendorName), \(industries)::jsonb,
                \(supportDesks)::jsonb, \(analysis.hasRescaleLicense ?? false), \(analysis.hasShortTermLicense ?? false),
                \(licenseSettings)::jsonb, \(analysis.pricing ?? ""), \(analysis.optimizerType), \(analysis.thumbnail ?? ""),
                \(resources)::jsonb, \(order), true)
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description,
                vendor_name = excluded.vendor_name, industries = excluded.industries, support_desks = excluded.support_desks,
                has_rescale_license = excluded.has_rescale_license, has_short_term_license = excluded.has_short_term_license,
                license_settings = excluded.license_settings,
                pricing = excluded.pricing, optimizer_type = excluded.optimizer_type, thumbnail = excluded.thumbnail,
                resources = excluded.resources, display_order = excluded.display_order, is_active = true, updated_at = now()
            """
    }

    private static func upsert(_ version: CatalogDefinition.VersionEntry, of analysisCode: String, order: Int) throws -> PostgresQuery {
        let environment = try encodeJSON(version.environment ?? [:])
        return """
            INSERT INTO catalog.analysis_versions (analysis_code, version_code, version, allowed_core_types, std_command,
                mpi_command, smp_command, eula, environment, display_order, is_active)
            VALUES (\(analysisCode), \(version.versionCode), \(version.version), \(version.allowedCoreTypes), \(version.stdCommand),
                \(version.mpiCommand), \(version.smpCommand), \(version.eula), \(environment)::jsonb, \(order), true)
            ON CONFLICT (analysis_code, version_code) DO UPDATE SET version = excluded.version,
                allowed_core_types = excluded.allowed_core_types, std_command = excluded.std_command,
                mpi_command = excluded.mpi_command, smp_command = excluded.smp_command, eula = excluded.eula,
                environment = excluded.environment, display_order = excluded.display_order, is_active = true, updated_at = now()
            """
    }

    // MARK: - Helpers

    private static func binds(_ value: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }

    private static func encodeJSON(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    private static func decodeJSON<Value: Decodable>(_ text: String) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }
}
