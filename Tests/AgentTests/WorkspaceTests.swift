import Foundation
import SimforgeTestSupport
import Testing
@testable import JobAgent

/// Unpacking inputs and finding outputs, on real files in a scratch directory.
@Suite struct WorkspaceTests {
    /// A scratch root with a workspace inside it; the root is where an escape would land.
    static func withWorkspace(_ body: (Workspace, String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(try Workspace.create(root: root, jobId: "job1"), root)
    }

    static func write(_ zip: Data, into workspace: Workspace, name: String = "case.zip") throws -> String {
        let path = workspace.directory + "/" + name
        try zip.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aZipUnpacksWithFoldersAndModes() throws {
        try Self.withWorkspace { workspace, _ in
            let zip = try TestZip.make([
                .directory("system/"), .file("system/controlDict", "application icoFoam;\n"), .file("Allrun", "#!/bin/sh\n", permissions: 0o755),
            ])
            try workspace.unpack(zip: try Self.write(zip, into: workspace), name: "case.zip")
            #expect(try String(contentsOfFile: workspace.directory + "/system/controlDict", encoding: .utf8) == "application icoFoam;\n")
            #expect(FileManager.default.isExecutableFile(atPath: workspace.directory + "/Allrun"))
        }
    }

    @Test(arguments: ["../escape.txt", "a/../../escape.txt", "/tmp/escape-absolute.txt", "..\\escape.txt"])
    func anEntryLeavingTheDirectoryRefusesTheWholeArchive(entry: String) throws {
        try Self.withWorkspace { workspace, root in
            let zip = try TestZip.make([.file("harmless.txt", "first"), .file(entry, "escaped")])
            #expect(throws: Workspace.Refusal.self) { try workspace.unpack(zip: try Self.write(zip, into: workspace), name: "case.zip") }
            // Nothing written at all: not the escape, not even the harmless entry before it.
            #expect(!FileManager.default.fileExists(atPath: root + "/escape.txt"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/escape-absolute.txt"))
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/harmless.txt"))
        }
    }

    @Test func linksAreRefused() throws {
        try Self.withWorkspace { workspace, _ in
            let zip = try TestZip.make([.symlink("passwd", target: "/etc/passwd")])
            let error = #expect(throws: Workspace.Refusal.self) { try workspace.unpack(zip: try Self.write(zip, into: workspace), name: "case.zip") }
            #expect(error?.description.contains("link") == true)
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/passwd"))
        }
    }

    @Test func somethingThatIsNotAZipIsRefusedWithItsName() throws {
        try Self.withWorkspace { workspace, _ in
            let path = try Self.write(Data("not a zip".utf8), into: workspace, name: "broken.zip")
            let error = #expect(throws: Workspace.Refusal.self) { try workspace.unpack(zip: path, name: "broken.zip") }
            #expect(error?.description == "input file 'broken.zip' is not a valid zip archive")
        }
    }

    @Test func changesAreNewAndModifiedRegularFilesOnly() throws {
        try Self.withWorkspace { workspace, root in
            let directory = workspace.directory
            try "same".write(toFile: directory + "/unchanged.txt", atomically: false, encoding: .utf8)
            try "before".write(toFile: directory + "/modified.txt", atomically: false, encoding: .utf8)
            let before = try workspace.snapshot()

            try "after, longer".write(toFile: directory + "/modified.txt", atomically: false, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: directory + "/out/deep", withIntermediateDirectories: true)
            try "new".write(toFile: directory + "/out/deep/result.csv", atomically: false, encoding: .utf8)
            try "secret".write(toFile: root + "/outside.txt", atomically: false, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: directory + "/link.txt", withDestinationPath: root + "/outside.txt")
            try FileManager.default.createSymbolicLink(atPath: directory + "/linkdir", withDestinationPath: root)

            #expect(try workspace.changes(since: before) == ["modified.txt", "out/deep/result.csv"])
        }
    }

    @Test func containedPaths() {
        #expect(Workspace.containedPath("a/./b/c.txt") == "a/b/c.txt")
        #expect(Workspace.containedPath("dir/") == "dir")
        #expect(Workspace.containedPath("a/../b") == nil)
        #expect(Workspace.containedPath("") == nil)
        #expect(Workspace.containedPath("./") == nil)
    }
}
