import Foundation
import Logging
import PostgresNIO
import SimforgeServer

/// ``FileRepository`` on the `files` schema.
struct FilePostgresRepository: FileRepository {
    let client: PostgresClient

    private static let columns = """
        id, owner, type_id, name, relative_path, storage_path, blob_name, key_id, wrapped_key, decrypted_size, md5,
        is_uploaded, view_in_browser, job_id, run_id, date_uploaded
        """

    func insert(_ file: StoredFile, logger: Logger) async throws {
        try await self.client.query(Self.insertQuery(file), logger: logger).drain()
    }

    private static func insertQuery(_ file: StoredFile) -> PostgresQuery {
        """
            INSERT INTO files.files (id, owner, type_id, name, relative_path, storage_path, blob_name, key_id, wrapped_key,
                decrypted_size, md5, is_uploaded, view_in_browser, job_id, run_id, date_uploaded)
            VALUES (\(file.id), \(file.owner), \(file.typeId), \(file.name), \(file.relativePath), \(file.storagePath),
                \(file.blobName), \(file.wrappedKey.keyID), \(file.wrappedKey.encoded), \(file.decryptedSize), \(file.md5),
                \(file.isUploaded), \(file.viewInBrowser), \(file.jobId), \(file.runId), \(file.dateUploaded))
            """
    }

    func file(id: String, owner: String, logger: Logger) async throws -> StoredFile? {
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM files.files WHERE id = $1 AND owner = $2", binds: Self.binds(id, owner)),
            logger: logger)
        return try await Self.decode(rows).first
    }

    func files(owner: String, search: String?, typeId: Int?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [StoredFile]) {
        let filter = "owner = $1 AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0) AND ($3::bigint IS NULL OR type_id = $3)"
        var binds = PostgresBindings()
        binds.append(owner)
        binds.append(search)
        binds.append(typeId)
        let count = try await self.client.count(from: "files.files", where: filter, binds: binds, logger: logger)
        binds.append(page.limit)
        binds.append(page.offset)
        let rows = try await self.client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM files.files WHERE \(filter) ORDER BY date_uploaded DESC, id LIMIT $4 OFFSET $5",
                binds: binds),
            logger: logger)
        return (count, try await Self.decode(rows))
    }

    func update(id: String, owner: String, name: String?, typeId: Int?, logger: Logger) async throws -> StoredFile? {
        let rows = try await self.client.query(
            """
            UPDATE files.files SET name = coalesce(\(name), name), type_id = coalesce(\(typeId), type_id),
                relative_path = CASE WHEN job_id IS NULL THEN coalesce(\(name), relative_path) ELSE relative_path END
            WHERE id = \(id) AND owner = \(owner)
            RETURNING \(unescaped: Self.columns)
            """,
            logger: logger)
        return try await Self.decode(rows).first
    }

    func delete(id: String, owner: String, logger: Logger) async throws -> StoredFile? {
        let rows = try await self.client.query(
            "DELETE FROM files.files WHERE id = \(id) AND owner = \(owner) RETURNING \(unescaped: Self.columns)", logger: logger)
        return try await Self.decode(rows).first
    }

    func outputs(owner: String, jobId: String, runId: String?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [StoredFile]) {
        let filter = """
            owner = $1 AND job_id = $2 AND ($3::text IS NULL OR run_id = $3)
            AND ($4::text IS NULL OR strpos(lower(relative_path), lower($4)) > 0)
            """
        var binds = PostgresBindings()
        binds.append(owner)
        binds.append(jobId)
        binds.append(runId)
        binds.append(search)
        let count = try await self.client.count(from: "files.files", where: filter, binds: binds, logger: logger)
        binds.append(page.limit)
        binds.append(page.offset)
        let rows = try await self.client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM files.files WHERE \(filter) ORDER BY run_id, relative_path, id LIMIT $5 OFFSET $6",
                binds: binds),
            logger: logger)
        return (count, try await Self.decode(rows))
    }

    func filesWrapped(notBy currentKeyID: String, limit: Int, logger: Logger) async throws -> [StoredFile] {
        let rows = try await self.client.query(
            "SELECT \(unescaped: Self.columns) FROM files.files WHERE key_id <> \(currentKeyID) ORDER BY id LIMIT \(limit)", logger: logger)
        return try await Self.decode(rows)
    }

    func replaceWrappedKey(id: String, old: MasterKeyring.WrappedKey, new: MasterKeyring.WrappedKey, logger: Logger) async throws -> Bool {
        let rows = try await self.client.query(
            """
            UPDATE files.files SET key_id = \(new.keyID), wrapped_key = \(new.encoded)
            WHERE id = \(id) AND key_id = \(old.keyID) AND wrapped_key = \(old.encoded)
            RETURNING id
            """,
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func createUpload(_ file: StoredFile, length: Int64, expiresAt: Date, logger: Logger) async throws {
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query(Self.insertQuery(file), logger: logger).drain()
            try await connection.query(
                "INSERT INTO files.uploads (file_id, upload_length, expires_at) VALUES (\(file.id), \(length), \(expiresAt))",
                logger: logger
            ).drain()
        }
    }

    func upload(id: String, owner: String, logger: Logger) async throws -> (file: StoredFile, state: UploadState?)? {
        guard let file = try await self.file(id: id, owner: owner, logger: logger) else { return nil }
        let rows = try await self.client.query(
            "SELECT upload_length, upload_offset, staged_bytes, expires_at FROM files.uploads WHERE file_id = \(id)", logger: logger)
        for try await (length, offset, staged, expires) in rows.decode((Int64, Int64, Int64, Date).self) {
            return (file, UploadState(length: length, offset: offset, stagedBytes: staged, expiresAt: expires))
        }
        return (file, nil)
    }

    func claimUpload(id: String, writer: String, for duration: Duration, logger: Logger) async throws -> Bool {
        try await self.changedRow(
            """
            UPDATE files.uploads SET writer = \(writer), writer_until = now() + make_interval(secs => \(Self.seconds(duration)))
            WHERE file_id = \(id) AND (writer IS NULL OR writer_until < now()) RETURNING file_id
            """, logger: logger)
    }

    func renewUpload(id: String, writer: String, for duration: Duration, logger: Logger) async throws -> Bool {
        try await self.changedRow(
            """
            UPDATE files.uploads SET writer_until = now() + make_interval(secs => \(Self.seconds(duration)))
            WHERE file_id = \(id) AND writer = \(writer) RETURNING file_id
            """, logger: logger)
    }

    func releaseUpload(id: String, writer: String, logger: Logger) async throws {
        _ = try await self.changedRow(
            "UPDATE files.uploads SET writer = NULL, writer_until = NULL WHERE file_id = \(id) AND writer = \(writer) RETURNING file_id",
            logger: logger)
    }

    func recordProgress(id: String, writer: String, from: Int64, offset: Int64, stagedBytes: Int64, logger: Logger) async throws -> Bool {
        try await self.changedRow(
            """
            UPDATE files.uploads SET upload_offset = \(offset), staged_bytes = \(stagedBytes)
            WHERE file_id = \(id) AND writer = \(writer) AND upload_offset = \(from) RETURNING file_id
            """, logger: logger)
    }

    /// Runs an UPDATE ... RETURNING file_id; whether it changed a row.
    private func changedRow(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        var changed = false
        for try await _ in try await self.client.query(query, logger: logger).decode(String.self) { changed = true }
        return changed
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func completeUpload(id: String, md5: String, logger: Logger) async throws {
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE files.files SET is_uploaded = true, md5 = \(md5),
                    decrypted_size = (SELECT upload_length FROM files.uploads WHERE file_id = \(id)), date_uploaded = now()
                WHERE id = \(id)
                """,
                logger: logger
            ).drain()
            try await connection.query("DELETE FROM files.uploads WHERE file_id = \(id)", logger: logger).drain()
        }
    }

    func expiredUploads(now: Date, logger: Logger) async throws -> [StoredFile] {
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM files.files
            WHERE id IN (SELECT file_id FROM files.uploads WHERE expires_at < \(now))
            """,
            logger: logger)
        return try await Self.decode(rows)
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [StoredFile] {
        var files: [StoredFile] = []
        for try await (id, owner, typeId, name, relativePath, storagePath, blobName, keyID, wrappedKey, size, md5, isUploaded, viewInBrowser, jobId, runId, date)
            in rows.decode((String, String, Int, String, String, String, String, String, String, Int64, String?, Bool, Bool, String?, String?, Date).self) {
            files.append(StoredFile(
                id: id, owner: owner, typeId: typeId, name: name, relativePath: relativePath, storagePath: storagePath,
                blobName: blobName, wrappedKey: .init(keyID: keyID, encoded: wrappedKey), decryptedSize: size, md5: md5,
                isUploaded: isUploaded, viewInBrowser: viewInBrowser, jobId: jobId, runId: runId, dateUploaded: date))
        }
        return files
    }

    private static func binds(_ values: String...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }
}
