import SimforgeServer

/// The catalog schema. Append new migrations; never edit an applied one.
enum CatalogMigrations {
    static let runner = MigrationRunner(schema: "catalog", migrations: [
        Migration(version: 1, name: "create catalog tables", statements: [
            """
            CREATE TABLE catalog.core_types (
                code text PRIMARY KEY,
                name text NOT NULL,
                description text NOT NULL,
                display_order bigint NOT NULL,
                is_active boolean NOT NULL,
                is_deprecated boolean NOT NULL,
                cores bigint[] NOT NULL,
                memory_mb_per_core bigint NOT NULL,
                storage_gb_per_core bigint NOT NULL,
                price text NOT NULL,
                processor_info text NOT NULL,
                walltime_required boolean NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE catalog.analyses (
                code text PRIMARY KEY,
                name text NOT NULL,
                description text NOT NULL,
                vendor_name text NOT NULL,
                industries jsonb NOT NULL,
                support_desks jsonb NOT NULL,
                has_rescale_license boolean NOT NULL,
                license_settings jsonb NOT NULL,
                pricing text,
                optimizer_type text,
                thumbnail text,
                resources jsonb NOT NULL,
                display_order bigint NOT NULL,
                is_active boolean NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE catalog.analysis_versions (
                analysis_code text NOT NULL REFERENCES catalog.analyses (code),
                version_code text NOT NULL,
                version text NOT NULL,
                allowed_core_types text[] NOT NULL,
                std_command text,
                mpi_command text,
                smp_command text,
                eula text,
                environment jsonb NOT NULL,
                display_order bigint NOT NULL,
                is_active boolean NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (analysis_code, version_code)
            )
            """,
        ]),
    ])
}
