import Foundation

/// The processes running on this host, by command line (from /proc).
public enum ProcessTable {
    /// The ids of processes whose arguments (`argv`, the program first) satisfy `matches`.
    public static func pids(where matches: ([String]) -> Bool) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  matches(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            else { return nil }
            return pid
        }
    }
}
