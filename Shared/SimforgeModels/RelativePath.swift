/// A path inside a job's working directory (`relativePath` of output files, a run's
/// `tail/{path}`): relative, without `..`, without control characters.
public enum RelativePath {
    /// `path` with `.` components and repeated slashes removed; `nil` when it could leave
    /// the directory or is not a usable name.
    public static func normalized(_ path: String) -> String? {
        guard !path.hasPrefix("/"), path.utf8.count <= 1024, !path.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return nil }
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { return nil }
        return parts.joined(separator: "/")
    }
}
