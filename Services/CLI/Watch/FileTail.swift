import Foundation

/// `watch --tail PATH`: a file of a running run, written to stdout as it grows. While the
/// run executes, the tail route (`jobs/{id}/runs/{run}/tail/{path}`) gives the file's bytes
/// (it has no range: each look reads the whole file, and only what is new is printed);
/// once the run ended, the rest comes from the run's output file of that path.
actor FileTail {
    let api: APIClient
    let jobId: String
    let runId: String
    let path: String
    private var printed = 0

    init(api: APIClient, jobId: String, runId: String, path: String) {
        self.api = api
        self.jobId = jobId
        self.runId = runId
        self.path = path
    }

    /// Looks every second until cancelled. Best effort: before the run starts (409) or the
    /// file exists (404) there is nothing to print yet.
    func follow() async {
        let escaped = self.path.split(separator: "/").map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? String($0)
        }.joined(separator: "/")
        let route = "jobs/\(self.jobId)/runs/\(self.runId)/tail/\(escaped)"
        while !Task.isCancelled {
            if let answer = try? await self.api.call(.GET, route, accept: { [200, 404, 409].contains($0) }), answer.status == 200 {
                self.write(answer.body)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// After the run: what the output file has beyond what was printed.
    func finish() async throws {
        let name = self.path.split(separator: "/").last.map(String.init) ?? self.path
        let search = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
        let (files, _) = try await self.api.list("jobs/\(self.jobId)/runs/\(self.runId)/files/?search=\(search)", as: OutputFile.self)
        guard let file = files.first(where: { $0.relativePath == self.path }) else { return }
        self.write(try await self.api.call(.GET, file.downloadRoute).body)
    }

    private func write(_ content: [UInt8]) {
        // A file that shrank was rewritten: print it again from its start.
        if content.count < self.printed { self.printed = 0 }
        guard content.count > self.printed else { return }
        FileHandle.standardOutput.write(Data(content[self.printed...]))
        self.printed = content.count
    }
}
