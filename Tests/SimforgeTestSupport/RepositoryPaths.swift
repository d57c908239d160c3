import Foundation

/// Files of this repository, for tests that read the real kong.yml and catalog.yml, and the
/// fixtures under Tests/Fixtures.
public enum RepositoryPaths {
    /// The checkout's root (the folder holding Package.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func file(_ relativePath: String) -> String {
        root.appendingPathComponent(relativePath).path
    }

    /// A file under `Tests/Fixtures/`, e.g. `fixture("rescale/file.json")`.
    public static func fixture(_ relativePath: String) -> String {
        file("Tests/Fixtures/" + relativePath)
    }

    /// The folder holding the built executables (next to the test bundle).
    public static var binaries: URL {
        if let override = ProcessInfo.processInfo.environment["SIMFORGE_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // The test bundle may sit inside an `.xctest` folder.
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent("dev-gateway").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder
    }
}
