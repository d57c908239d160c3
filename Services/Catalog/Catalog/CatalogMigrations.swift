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
        // Every key of the Rescale docs' core types and analyses. Support desks, license
        // settings and resources were lists of strings; they become the docs' objects.
        Migration(version: 2, name: "core type and analysis keys of the Rescale docs", statements: [
            """
            ALTER TABLE catalog.core_types
                ADD COLUMN is_primary boolean NOT NULL DEFAULT false,
                ADD COLUMN has_ssd boolean NOT NULL DEFAULT false,
                ADD COLUMN storage_io text NOT NULL DEFAULT '',
                ADD COLUMN io text NOT NULL DEFAULT '',
                ADD COLUMN compute text NOT NULL DEFAULT '',
                ADD COLUMN low_priority_price text,
                ADD COLUMN remote_viz_allowed boolean NOT NULL DEFAULT false
            """,
            "UPDATE catalog.core_types SET low_priority_price = price",
            "ALTER TABLE catalog.core_types ALTER COLUMN low_priority_price SET NOT NULL",
            "ALTER TABLE catalog.analyses ADD COLUMN has_short_term_license boolean NOT NULL DEFAULT false",
            """
            UPDATE catalog.analyses SET
                pricing = coalesce(pricing, ''),
                thumbnail = coalesce(thumbnail, ''),
                support_desks = (
                    SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(desk) = 'string'
                        THEN jsonb_build_object('code', desk #>> '{}', 'displayName', desk #>> '{}', 'email', '') ELSE desk END ORDER BY position), '[]'::jsonb)
                    FROM jsonb_array_elements(support_desks) WITH ORDINALITY AS element(desk, position)),
                license_settings = (
                    SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(setting) = 'string'
                        THEN jsonb_build_object('name', setting #>> '{}', 'label', setting #>> '{}', 'helpText', '',
                                                'licenseType', '', 'isServer', false) ELSE setting END ORDER BY position), '[]'::jsonb)
                    FROM jsonb_array_elements(license_settings) WITH ORDINALITY AS element(setting, position)),
                resources = (
                    SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(resource) = 'string'
                        THEN jsonb_build_object('url', resource #>> '{}', 'name', resource #>> '{}') ELSE resource END ORDER BY position), '[]'::jsonb)
                    FROM jsonb_array_elements(resources) WITH ORDINALITY AS element(resource, position))
            """,
            """
            ALTER TABLE catalog.analyses
                ALTER COLUMN pricing SET DEFAULT '', ALTER COLUMN pricing SET NOT NULL,
                ALTER COLUMN thumbnail SET DEFAULT '', ALTER COLUMN thumbnail SET NOT NULL
            """,
        ]),
    ])
}
