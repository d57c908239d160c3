import SimforgeServer

/// The files schema. Append new migrations; never edit an applied one.
enum FilesMigrations {
    static let runner = MigrationRunner(schema: "files", migrations: [
        Migration(version: 1, name: "create files", statements: [
            """
            CREATE TABLE files.files (
                id text PRIMARY KEY,
                owner text NOT NULL,
                type_id integer NOT NULL,
                name text NOT NULL,
                relative_path text NOT NULL,
                storage_path text NOT NULL,
                blob_name text NOT NULL UNIQUE,
                key_id text NOT NULL,
                wrapped_key text NOT NULL,
                decrypted_size bigint NOT NULL,
                md5 text,
                is_uploaded boolean NOT NULL,
                view_in_browser boolean NOT NULL DEFAULT false,
                job_id text,
                run_id text,
                date_uploaded timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX files_owner_date ON files.files (owner, date_uploaded DESC, id)",
            "CREATE INDEX files_job_run ON files.files (owner, job_id, run_id) WHERE job_id IS NOT NULL",
        ]),
        Migration(version: 2, name: "create resumable uploads", statements: [
            """
            CREATE TABLE files.uploads (
                file_id text PRIMARY KEY REFERENCES files.files (id) ON DELETE CASCADE,
                upload_length bigint NOT NULL CHECK (upload_length >= 0),
                upload_offset bigint NOT NULL DEFAULT 0,
                staged_bytes bigint NOT NULL DEFAULT 0,
                expires_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX uploads_expiry ON files.uploads (expires_at)",
        ]),
        // Outputs' path is Rescale's logical path (StoredFile.outputPath); it was the
        // upload form `user/user_{owner}/{stem}-{uuid}{ext}`.
        Migration(version: 3, name: "outputs get Rescale's output path", statements: [
            """
            UPDATE files.files
            SET storage_path = 'user/user_' || owner || '/output/job_' || job_id || '/run' || run_id || '/' || relative_path
            WHERE job_id IS NOT NULL AND run_id IS NOT NULL
            """,
        ]),
        // One writer per upload across replicas: a lease the writing request renews.
        Migration(version: 4, name: "upload writer leases", statements: [
            "ALTER TABLE files.uploads ADD COLUMN writer text, ADD COLUMN writer_until timestamptz",
        ]),
    ])
}
