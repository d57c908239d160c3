import Foundation

/// Writing to the user.
enum Terminal {
    /// A message or an error, on stderr, one line.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("simforge: \(message)\n".utf8))
    }

    /// A result line on stdout, written at once (a script or a pipe may wait for it).
    static func output(_ line: String) {
        FileHandle.standardOutput.write(Data("\(line)\n".utf8))
    }

    /// A status or note on stderr (stdout is for results).
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// On ^C: `message`, then exit 130. Without it the default action stops the process
    /// silently, which is right for a plain command but not where the user must learn how
    /// to go on (a job that keeps running, an upload that resumes). A plain C handler that
    /// only writes and exits: all a signal handler may safely do.
    static func onInterrupt(_ message: String) {
        // The previous message is leaked, not freed: the handler may be reading it.
        Self.interruptMessage = strdup("\nsimforge: \(message)\n")
        signal(SIGINT) { _ in
            if let message = Terminal.interruptMessage { _ = write(STDERR_FILENO, message, strlen(message)) }
            _exit(130)  // CLIError.interrupted; a literal: a static might initialize lazily here
        }
    }

    nonisolated(unsafe) private static var interruptMessage: UnsafeMutablePointer<CChar>?
}
