import SimforgeServer

/// The status schema. Append new migrations; never edit an applied one.
enum StatusMigrations {
    static let runner = MigrationRunner(schema: "status", migrations: [
        Migration(version: 1, name: "create status history", statements: [
            """
            CREATE TABLE status.jobs (
                job_id text PRIMARY KEY,
                owner text NOT NULL
            )
            """,
            """
            CREATE TABLE status.job_statuses (
                seq bigserial PRIMARY KEY,
                event_id text NOT NULL UNIQUE,
                job_id text NOT NULL,
                owner text NOT NULL,
                status text NOT NULL,
                status_date timestamptz NOT NULL,
                status_reason text
            )
            """,
            "CREATE INDEX job_statuses_job ON status.job_statuses (job_id, status_date DESC, seq DESC)",
            "CREATE INDEX job_statuses_owner ON status.job_statuses (owner, status_date DESC, seq DESC)",
        ]),
    ])
}
