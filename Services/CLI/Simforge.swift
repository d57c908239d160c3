import ArgumentParser
import Foundation

/// `simforge`: the command-line client of the public API (API.md).
@main
struct Simforge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simforge",
        abstract: "Upload inputs, run and watch jobs, download their outputs.",
        discussion: """
            Speaks only the public REST API (Rescale's v2 dialect), so it also talks to Rescale \
            itself given Rescale's base URL. Uploads resume through the tus endpoint \
            (files/uploads/) where the server has one, else go in one multipart request.

            Configuration: --url and --token, else SIMFORGE_URL and SIMFORGE_TOKEN, else the same \
            NAME=value lines in ~/.config/simforge/config (a copy of .data/local.env works).

            Output: results (ids, tables, --json) go to stdout; progress, statuses of run --watch \
            and messages to stderr. A progress bar on a terminal, plain lines otherwise.

            Exit codes: 0 success; 1 the job did not succeed; 64 usage or configuration; \
            65 the API refused the request (4xx); 66 a local input is missing; 69 the server \
            failed or is unreachable (5xx, network); 74 an MD5 mismatch or a local write failed; \
            77 authentication (401/403: wrong token or URL); 130 interrupted.

            Example:
              export SIMFORGE_URL=http://127.0.0.1:8000/alice/api/v2/ SIMFORGE_TOKEN=...
              FILE_ID=$(simforge upload cavity)
              JOB_ID=$(simforge run --analysis openfoam --input-file $FILE_ID --watch \\
                --command 'cd cavity && blockMesh && icoFoam')
              simforge download $JOB_ID results
            """,
        subcommands: [
            UploadCommand.self, RunCommand.self, WatchCommand.self, DownloadCommand.self, StopCommand.self,
            JobsCommand.self, FilesCommand.self, AnalysesCommand.self,
        ]
    )

    /// Our errors print as one line and exit with their code; ArgumentParser reports its own
    /// (usage errors exit 64).
    static func main() async {
        do {
            var command = try Self.parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            Terminal.error(error.message)
            Foundation.exit(error.exitCode)
        } catch {
            Self.exit(withError: error)
        }
    }
}
