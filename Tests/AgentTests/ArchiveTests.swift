import Foundation
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import JobAgent

/// Unpacking inputs (zip, tar, tar.gz) and finding outputs, on real files in a scratch
/// directory: every entry is checked before anything is written.
@Suite struct ArchiveTests {
    /// A scratch root with a run's workspace inside it; the root is where an escape would land.
    static func withWorkspace(_ body: (Workspace, String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(try Workspace.create(root: root, jobId: "job1", runId: "1"), root)
    }

    /// Writes `archive` into the workspace as `name` and unpacks it with `budget` bytes.
    static func unpack(_ archive: Data, _ name: String, in workspace: Workspace, budget: Int64 = 1 << 30) throws {
        let path = workspace.directory + "/" + name
        try archive.write(to: URL(fileURLWithPath: path))
        try ArchiveUnpacker(directory: workspace.directory, budget: UnpackBudget(limit: budget))
            .unpack(path, format: try #require(ArchiveFormat(name: name)), name: name)
    }

    static func refusal(_ body: () throws -> Void) -> RunFailure.Kind? {
        do {
            try body()
            return nil
        } catch let failed as RunFailed {
            return failed.failure.kind
        } catch {
            return .agentFailure
        }
    }

    @Test func aZipUnpacksWithFoldersAndModes() throws {
        try Self.withWorkspace { workspace, _ in
            let zip = try TestZip.make([
                .directory("system/"), .file("system/controlDict", "application icoFoam;\n"), .file("Allrun", "#!/bin/sh\n", permissions: 0o755),
            ])
            try Self.unpack(zip, "case.zip", in: workspace)
            #expect(try String(contentsOfFile: workspace.directory + "/system/controlDict", encoding: .utf8) == "application icoFoam;\n")
            #expect(FileManager.default.isExecutableFile(atPath: workspace.directory + "/Allrun"))
        }
    }

    @Test(arguments: [("case.tar", false), ("case.tar.gz", true), ("case.tgz", true)])
    func aTarUnpacksWithFoldersModesAndLongNames(name: String, gzipped: Bool) throws {
        try Self.withWorkspace { workspace, _ in
            let long = "deep/" + String(repeating: "n", count: 120) + ".txt"
            let tar = try TestTar.make([
                .directory("system/"), .file("system/controlDict", "application icoFoam;\n"), .file("Allrun", "#!/bin/sh\n", mode: 0o755),
                .longNamedFile(long, "long"),
            ], gzipped: gzipped)
            try Self.unpack(tar, name, in: workspace)
            #expect(try String(contentsOfFile: workspace.directory + "/system/controlDict", encoding: .utf8) == "application icoFoam;\n")
            #expect(FileManager.default.isExecutableFile(atPath: workspace.directory + "/Allrun"))
            #expect(try String(contentsOfFile: workspace.directory + "/" + long, encoding: .utf8) == "long")
        }
    }

    @Test(arguments: ["../escape.txt", "a/../../escape.txt", "/tmp/escape-absolute.txt", "..\\escape.txt"])
    func anEntryLeavingTheDirectoryRefusesTheWholeArchive(entry: String) throws {
        for gzipped in [false, true] {
            try Self.withWorkspace { workspace, root in
                let zip = try TestZip.make([.file("harmless.txt", "first"), .file(entry, "escaped")])
                #expect(Self.refusal { try Self.unpack(zip, "case.zip", in: workspace) } == .archiveEscapes)
                let tar = try TestTar.make([.file("harmless.txt", "first"), .file(entry, "escaped")], gzipped: gzipped)
                #expect(Self.refusal { try Self.unpack(tar, gzipped ? "case.tar.gz" : "case.tar", in: workspace) } == .archiveEscapes)
                // Nothing written at all: not the escape, not even the harmless entry before it.
                #expect(!FileManager.default.fileExists(atPath: root + "/escape.txt"))
                #expect(!FileManager.default.fileExists(atPath: "/tmp/escape-absolute.txt"))
                #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/harmless.txt"))
            }
        }
    }

    @Test func linksAndDevicesAreRefused() throws {
        let tars: [TestTar.Entry] = [.symlink("passwd", target: "/etc/passwd"), .hardLink("shadow", target: "/etc/shadow"), .device("disk")]
        for entry in tars {
            try Self.withWorkspace { workspace, _ in
                let tar = try TestTar.make([.file("first.txt", "x"), entry])
                #expect(Self.refusal { try Self.unpack(tar, "case.tar", in: workspace) } == .archiveSpecialFile)
                #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/first.txt"))
            }
        }
        try Self.withWorkspace { workspace, _ in
            let zip = try TestZip.make([.symlink("passwd", target: "/etc/passwd")])
            #expect(Self.refusal { try Self.unpack(zip, "case.zip", in: workspace) } == .archiveSpecialFile)
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/passwd"))
        }
    }

    /// A decompression bomb: far more bytes unpacked than the budget allows, refused before
    /// a byte is written.
    @Test func unpackingPastTheBudgetIsRefused() throws {
        let big = String(repeating: "0", count: 2_000_000)
        try Self.withWorkspace { workspace, _ in
            let tar = try TestTar.make([.file("a.dat", big), .file("b.dat", big)], gzipped: true)
            #expect(tar.count < 100_000)
            #expect(Self.refusal { try Self.unpack(tar, "bomb.tar.gz", in: workspace, budget: 3_000_000) } == .archiveTooLarge)
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/a.dat"))
            let zip = try TestZip.make([.file("a.dat", big), .file("b.dat", big)])
            #expect(Self.refusal { try Self.unpack(zip, "bomb.zip", in: workspace, budget: 3_000_000) } == .archiveTooLarge)
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/a.dat"))
        }
    }

    @Test func somethingThatIsNotAnArchiveIsRefused() throws {
        try Self.withWorkspace { workspace, _ in
            for name in ["broken.zip", "broken.tar", "broken.tar.gz"] {
                #expect(Self.refusal { try Self.unpack(Data("not an archive".utf8), name, in: workspace) } == .archiveInvalid)
            }
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
        #expect(ArchiveUnpacker.containedPath("a/./b/c.txt") == "a/b/c.txt")
        #expect(ArchiveUnpacker.containedPath("dir/") == "dir")
        #expect(ArchiveUnpacker.containedPath("a/../b") == nil)
        #expect(ArchiveUnpacker.containedPath("") == nil)
        #expect(ArchiveUnpacker.containedPath("./") == nil)
    }
}
