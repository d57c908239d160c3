import Foundation
import Testing
import ZIPFoundation
@testable import SimforgeCLI

/// The CLI's pieces that need no server (Tests/curl/cli.sh runs the binary against one):
/// the zip made on the fly, the one-line errors, the download tree, the job's outcome.
@Suite struct CLITests {
    /// A scratch folder with nested files, an empty folder and a non-ASCII name.
    static func withCase(_ body: (URL) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("system/empty"), withIntermediateDirectories: true)
        try Data("nu 0.01;\n".utf8).write(to: folder.appendingPathComponent("system/controlDict"))
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: folder.appendingPathComponent("mesh.bin"))
        try Data().write(to: folder.appendingPathComponent("résumé.txt"))
        try body(folder)
    }

    static func bytes(of source: UploadSource) throws -> Data {
        let reader = try source.reader()
        var data = Data()
        while let chunk = try reader.next() { data.append(contentsOf: chunk.readableBytesView) }
        return data
    }

    @Test func zippedFolderHasItsAnnouncedLengthAndUnzipsWithZIPFoundation() throws {
        try Self.withCase { folder in
            let source = try UploadSource(path: folder.path)
            let zip = try Self.bytes(of: source)
            #expect(source.name == "case.zip")
            #expect(Int64(zip.count) == source.length)
            let zipURL = folder.deletingLastPathComponent().appendingPathComponent("case.zip")
            try zip.write(to: zipURL)
            let archive = try Archive(url: zipURL, accessMode: .read)
            var found: [String: Data] = [:]
            for entry in archive {
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                found[entry.path] = data
            }
            #expect(Set(found.keys) == ["case/", "case/mesh.bin", "case/résumé.txt", "case/system/", "case/system/controlDict",
                                        "case/system/empty/"])
            #expect(found["case/mesh.bin"] == (try Data(contentsOf: folder.appendingPathComponent("mesh.bin"))))
            #expect(found["case/system/controlDict"] == Data("nu 0.01;\n".utf8))
        }
    }

    @Test func sameFolderGivesSameBytesAndResumesMidway() throws {
        try Self.withCase { folder in
            let source = try UploadSource(path: folder.path)
            let whole = try Self.bytes(of: source)
            #expect(try Self.bytes(of: UploadSource(path: folder.path)) == whole)
            // Skipping to an offset inside a chunk returns exactly the rest, and hashes everything.
            let reader = try source.reader()
            try reader.skip(to: 1234)
            var rest = Data()
            while let chunk = try reader.next() { rest.append(contentsOf: chunk.readableBytesView) }
            #expect(rest == whole.dropFirst(1234))
            #expect(try reader.finishMD5() == (try source.reader().finishMD5()))
        }
    }

    @Test func nestedFieldErrorsBecomeOneLine() {
        let body = Array(#"{"jobanalyses": [{"hardware": {"coreType": ["unknown core type 'x'"]}}], "name": ["required", "too short"]}"#.utf8)
        let error = CLIError.http(status: 400, body: body, method: "POST", url: "http://h/jobs/")
        #expect(error.message == "jobanalyses[0].hardware.coreType: unknown core type 'x'; name: required; name: too short (HTTP 400 on POST http://h/jobs/)")
        #expect(error.exitCode == CLIError.refused)
    }

    @Test func authenticationAndServerErrorsHaveTheirExitCodes() {
        let unauthorized = CLIError.http(status: 401, body: Array(#"{"message":"No API key found in request"}"#.utf8), method: "GET", url: "u")
        #expect(unauthorized.exitCode == CLIError.authentication)
        #expect(unauthorized.message == "No API key found in request (HTTP 401 on GET u)")
        let failed = CLIError.http(status: 502, body: Array("<html>\nBad\ngateway</html>".utf8), method: "GET", url: "u")
        #expect(failed.exitCode == CLIError.unavailable)
        #expect(!failed.message.contains("\n"))
    }

    @Test func jobOutcomeFromItsLastReason() {
        #expect(JobWatcher.succeeded("Completed successfully"))
        #expect(JobWatcher.succeeded("3 of 3 runs succeeded"))
        #expect(!JobWatcher.succeeded("2 of 3 runs succeeded"))
        #expect(!JobWatcher.succeeded("Command exited with code 3"))
        #expect(!JobWatcher.succeeded("Stopped by user"))
    }

    @Test func outputsLandInTheirRunsTreeAndNeverOutside() throws {
        let download = OutputDownload(api: APIClient(base: URL(string: "http://h/u/api/v2/")!, token: "t"), jobId: "J1",
                                      folder: URL(fileURLWithPath: "/tmp/out"), include: [], parallel: 1)
        func file(_ path: String?) -> OutputFile {
            OutputFile(id: "f", name: "U", relativePath: "cavity/0.5/U", path: path, decryptedSize: 1)
        }
        #expect(try download.treePath(of: file("user/user_u/output/job_J1/run2/cavity/0.5/U")) == "run2/cavity/0.5/U")
        #expect(try download.treePath(of: file(nil)) == "run/cavity/0.5/U")
        #expect(throws: CLIError.self) { try download.treePath(of: file("user/user_u/output/job_J1/run1/../../etc/passwd")) }
    }
}
