import SimforgeServer

/// The jobs schema. Append new migrations; never edit an applied one.
enum JobsMigrations {
    static let runner = MigrationRunner(schema: "jobs", migrations: [
        Migration(version: 1, name: "create jobs, runs and outbox", statements: [
            """
            CREATE TABLE jobs.jobs (
                id text PRIMARY KEY,
                owner text NOT NULL,
                name text NOT NULL,
                spec jsonb NOT NULL,
                analysis_names text[] NOT NULL,
                state text NOT NULL CHECK (state IN ('created', 'pending', 'queued', 'started', 'validated', 'executing', 'stopping', 'completed')),
                status_reason text,
                last_status_date timestamptz,
                date_inserted timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX jobs_owner_date ON jobs.jobs (owner, date_inserted DESC, id)",
            """
            CREATE TABLE jobs.runs (
                job_id text NOT NULL REFERENCES jobs.jobs (id) ON DELETE CASCADE,
                run_id text NOT NULL,
                date_started timestamptz,
                date_completed timestamptz,
                exit_code integer,
                output_file_count integer NOT NULL DEFAULT 0,
                output_file_size bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (job_id, run_id)
            )
            """,
            """
            CREATE TABLE jobs.outbox (
                seq bigserial PRIMARY KEY,
                event_id text NOT NULL UNIQUE,
                kind text NOT NULL CHECK (kind IN ('register', 'status', 'forget')),
                job_id text NOT NULL,
                payload jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                delivered_at timestamptz
            )
            """,
            "CREATE INDEX outbox_pending ON jobs.outbox (seq) WHERE delivered_at IS NULL",
        ]),
        Migration(version: 2, name: "compute backend reference", statements: [
            "ALTER TABLE jobs.jobs ADD COLUMN backend_ref text",
            "CREATE INDEX jobs_dispatch ON jobs.jobs (state, last_status_date) WHERE state <> 'completed'",
        ]),
        Migration(version: 3, name: "agent heartbeats", statements: [
            "ALTER TABLE jobs.jobs ADD COLUMN agent_seen_at timestamptz",
        ]),
    ])
}
