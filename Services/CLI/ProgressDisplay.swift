#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One transfer's progress on stderr: on a terminal a bar redrawn in place (bytes, rate,
/// ETA) about ten times a second; otherwise a plain line every few seconds, with no control
/// characters, so that logs of scripted runs stay readable. Safe to update from
/// concurrent tasks (downloads run in parallel).
final class ProgressDisplay: @unchecked Sendable {
    private let label: String
    private let total: Int64
    private let start: Int64
    private let terminal: Bool
    private let lock = NSLock()
    private var done: Int64
    private var lastDraw = Date.distantPast
    /// (time, bytes) over the last seconds, for a rate that follows the current speed.
    private var samples: [(Date, Int64)] = []
    private let began = Date()

    /// `start` bytes are already done (a resumed transfer): they count in the bar, not in
    /// the rate.
    init(label: String, total: Int64, start: Int64 = 0) {
        self.label = label
        self.total = total
        self.start = start
        self.done = start
        self.terminal = isatty(STDERR_FILENO) == 1
    }

    func add(_ bytes: Int) {
        self.lock.withLock {
            self.done += Int64(bytes)
            let now = Date()
            guard now.timeIntervalSince(self.lastDraw) >= (self.terminal ? 0.1 : 5) else { return }
            self.draw(now: now)
        }
    }

    /// Moves the count back (a retried transfer resends from the server's offset).
    func reset(to bytes: Int64) {
        self.lock.withLock {
            self.done = bytes
            self.samples.removeAll()
        }
    }

    /// The last state, then a newline on a terminal.
    func finish() {
        self.lock.withLock {
            self.draw(now: Date())
            if self.terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    private func draw(now: Date) {
        self.lastDraw = now
        self.samples.append((now, self.done))
        // Plain lines come every 5 s: keep the one before, for a rate over the last interval.
        self.samples.removeAll { now.timeIntervalSince($0.0) > (self.terminal ? 5 : 12) }
        let rate = self.rate(now: now)
        let left = rate > 0 ? Double(self.total - self.done) / rate : nil
        let percent = self.total > 0 ? Int(self.done * 100 / self.total) : 100
        let figures = "\(percent)% \(Self.bytes(self.done))/\(Self.bytes(self.total)) \(Self.bytes(Int64(rate)))/s ETA \(Self.duration(left))"
        if self.terminal {
            let width = max(10, Self.terminalWidth() - figures.count - self.label.count - 6)
            let filled = self.total > 0 ? Int(Int64(width) * self.done / self.total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            // \r and "erase to end of line": the bar overwrites itself.
            FileHandle.standardError.write(Data("\r\(self.label) [\(bar)] \(figures)\u{1B}[K".utf8))
        } else {
            FileHandle.standardError.write(Data("\(self.label): \(figures)\n".utf8))
        }
    }

    private func rate(now: Date) -> Double {
        guard let first = self.samples.first, now.timeIntervalSince(first.0) >= 0.5 else {
            let elapsed = now.timeIntervalSince(self.began)
            return elapsed > 0.5 ? Double(self.done - self.start) / elapsed : 0
        }
        return Double(self.done - first.1) / now.timeIntervalSince(first.0)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds < 100 * 3600 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
