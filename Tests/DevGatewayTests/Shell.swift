import Foundation
import SimforgeTestSupport

/// Runs repository scripts (deploy/compose/*.sh) the way an operator does.
enum Shell {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `bash script args...` from the repository root, with `environment` added to ours.
    static func bash(_ script: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> Result {
        try self.run(["bash", RepositoryPaths.file(script)] + arguments, environment: environment)
    }

    /// `command` (looked up in PATH) from the repository root, with `environment` added to ours.
    static func run(_ command: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = RepositoryPaths.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read before waiting: a full pipe would block the script.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("simforge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
