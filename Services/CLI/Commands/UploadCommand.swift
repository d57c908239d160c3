import ArgumentParser
import Foundation

struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload files or folders (a folder is zipped on the fly); prints each file's id.",
        discussion: """
            Resumable: after a cut, a kill or a ^C, the same command sends only what the server \
            does not have yet (the upload's address is kept in ~/.cache/simforge/uploads until \
            it completes; a file changed since starts over). Each file's MD5 is checked against \
            the server's. A server without the resumable endpoint (files/uploads/) gets one \
            multipart request instead, as with --no-resume.

            Example:
              simforge upload big-case.zip             # prints the file id
              simforge upload cavity --json            # the folder as cavity.zip; the File as JSON
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Files or folders to upload.")
    var paths: [String]

    @Flag(help: "Print each File as JSON (one line each) instead of its id.")
    var json = false

    @Flag(help: "Send each file in one multipart request (files/contents/) instead of the resumable endpoint.")
    var noResume = false

    func run() async throws {
        let api = try self.connection.client()
        let sources = try self.paths.map { try UploadSource(path: $0) }
        Terminal.onInterrupt("upload interrupted; run the same command again to resume it")
        for source in sources {
            let file = try await source.upload(to: api, resumable: !self.noResume)
            Terminal.output(self.json ? String(decoding: file.json, as: UTF8.self) : file.id)
        }
    }
}
