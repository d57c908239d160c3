import CSimforgeProcess
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with an environment of our choosing (nothing inherited: no
/// service secret reaches it), all descriptors but stdin/stdout/stderr closed, and signals
/// at their defaults. Started in a session and process group of its own, so that
/// ``signal(_:)`` reaches everything it started and it outlives its parent.
public struct SpawnedProcess: Sendable {
    public let pid: pid_t

    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// The shell's convention: the exit code, or 128 + the signal.
        public var exitCode: Int {
            switch self {
            case .exited(let code): Int(code)
            case .signalled(let signal): 128 + Int(signal)
            }
        }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let errno: Int32
        public var description: String { "cannot start \(self.executable): \(String(cString: strerror(self.errno)))" }
    }

    /// - Parameters:
    ///   - output: a descriptor for stdout and stderr (the caller closes its copy); `nil`: /dev/null.
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String], directory: String? = nil, output: Int32? = nil
    ) throws -> SpawnedProcess {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw SpawnError(executable: executable, errno: errno) }
        defer { close(null) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let error = simforge_spawn(&pid, executable, argv, envp, directory, null, output ?? null, output ?? null, 1)
        guard error == 0 else { throw SpawnError(executable: executable, errno: error) }
        return SpawnedProcess(pid: pid)
    }

    /// Sends `signal` to the process's whole group (itself and everything it started that
    /// did not leave the group).
    public func signal(_ signal: Int32) {
        kill(-self.pid, signal)
    }

    /// Reaps the process if it ended (only its parent can); `nil` while it runs.
    public func poll() -> Termination? {
        var status: Int32 = 0
        let result = waitpid(self.pid, &status, WNOHANG)
        guard result == self.pid else { return nil }
        return Self.termination(status)
    }

    /// Waits for the end of the process (a child of ours) without holding a thread.
    public func wait(pollingEvery interval: Duration = .milliseconds(20)) async -> Termination {
        while true {
            if let termination = self.poll() { return termination }
            try? await Task.sleep(for: interval)
        }
    }

    /// Whether a process with this id runs (for processes that are not our children, such
    /// as agents adopted after a restart): not gone and not a zombie.
    public static func isRunning(pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return !status.split(separator: "\n").contains { $0.hasPrefix("State:") && $0.contains("Z") }
    }

    fileprivate static func termination(_ status: Int32) -> Termination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// Hardening of a process that holds secrets.
public enum ProcessHardening {
    /// Nothing running as the same user (a job's command, say) may read this process's
    /// memory or its initial environment (`/proc/<pid>/environ`, where its secrets stay).
    public static func forbidInspection() {
        _ = simforge_forbid_inspection()
    }
}

/// A short command run to its end, with its output captured (`sbatch`, `squeue`, ...).
public struct CommandResult: Sendable {
    public var termination: SpawnedProcess.Termination
    public var output: String
    public var succeeded: Bool { self.termination == .exited(0) }

    /// Runs `executable` with `arguments` and `environment`; stdout and stderr together.
    /// The wait happens on a Dispatch thread, not on the caller's.
    /// - Parameter searchPath: find a bare command name in the environment's `PATH`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], searchPath: Bool = false
    ) async throws -> CommandResult {
        let executable = searchPath ? Self.locate(executable, path: environment["PATH"] ?? "/usr/bin:/bin") : executable
        var pipeEnds: [Int32] = [0, 0]
        // Every spawn closes descriptors above 2, so the pipe cannot leak into another child.
        guard pipe(&pipeEnds) == 0 else { throw SpawnedProcess.SpawnError(executable: executable, errno: errno) }
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess.spawn(executable: executable, arguments: arguments, environment: environment, output: pipeEnds[1])
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        let reader = pipeEnds[0]
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var output = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(reader, &buffer, buffer.count)
                    if count > 0 {
                        output.append(contentsOf: buffer[0..<count])
                    } else if count == 0 || errno != EINTR {
                        break
                    }
                }
                close(reader)
                var status: Int32 = 0
                while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: CommandResult(
                    termination: SpawnedProcess.termination(status), output: String(decoding: output, as: UTF8.self)))
            }
        }
    }

    /// The first executable named `command` in the directories of `path`.
    private static func locate(_ command: String, path: String) -> String {
        guard !command.contains("/") else { return command }
        for directory in path.split(separator: ":") where access("\(directory)/\(command)", X_OK) == 0 {
            return "\(directory)/\(command)"
        }
        return command
    }
}
