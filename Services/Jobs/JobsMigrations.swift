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
        Migration(version: 4, name: "runs are the unit that executes", statements: [
            "ALTER TABLE jobs.runs ADD COLUMN display_order integer",
            "UPDATE jobs.runs SET display_order = run_id::integer",
            "ALTER TABLE jobs.runs ALTER COLUMN display_order SET NOT NULL",
            "ALTER TABLE jobs.runs ADD COLUMN state text NOT NULL DEFAULT 'created'",
            "ALTER TABLE jobs.runs ADD COLUMN status_reason text",
            "ALTER TABLE jobs.runs ADD COLUMN succeeded boolean NOT NULL DEFAULT false",
            "ALTER TABLE jobs.runs ADD COLUMN state_date timestamptz",
            "ALTER TABLE jobs.runs ADD COLUMN variables jsonb NOT NULL DEFAULT '[]'",
            "ALTER TABLE jobs.runs ADD COLUMN backend_ref text",
            "ALTER TABLE jobs.runs ADD COLUMN agent_seen_at timestamptz",
            """
            UPDATE jobs.runs r SET state = j.state, status_reason = j.status_reason, state_date = j.last_status_date,
                backend_ref = j.backend_ref, agent_seen_at = j.agent_seen_at,
                succeeded = (j.state = 'completed' AND j.status_reason = 'Completed successfully')
            FROM jobs.jobs j WHERE j.id = r.job_id
            """,
            // Runs are made when the job is created now: jobs from before get theirs.
            """
            INSERT INTO jobs.runs (job_id, run_id, display_order, state)
            SELECT id, '1', 1, 'created' FROM jobs.jobs j WHERE NOT EXISTS (SELECT 1 FROM jobs.runs r WHERE r.job_id = j.id)
            """,
            "CREATE INDEX runs_active ON jobs.runs (state, job_id) WHERE state NOT IN ('created', 'completed')",
            "CREATE INDEX runs_order ON jobs.runs (job_id, display_order)",
            "ALTER TABLE jobs.jobs ADD COLUMN expected_runs integer NOT NULL DEFAULT 1",
            "ALTER TABLE jobs.jobs DROP COLUMN backend_ref",
            "ALTER TABLE jobs.jobs DROP COLUMN agent_seen_at",
            """
            CREATE TABLE jobs.cluster_statuses (
                job_id text NOT NULL REFERENCES jobs.jobs (id) ON DELETE CASCADE,
                status text NOT NULL,
                status_date timestamptz NOT NULL,
                PRIMARY KEY (job_id, status_date)
            )
            """,
        ]),
        Migration(version: 5, name: "stops signalled by the leading dispatcher", statements: [
            "ALTER TABLE jobs.runs ADD COLUMN stop_signalled_at timestamptz",
        ]),
    ])
}
