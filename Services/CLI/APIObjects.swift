/// The API's objects as the CLI reads them: only the fields it uses, optional where a
/// server may leave them out, so that Rescale's own answers decode too. `--json` prints
/// what the server sent, not these.

/// A File (an upload or a run's output).
struct OutputFile: Decodable {
    var id: String
    var name: String
    var relativePath: String?
    /// `user/user_{owner}/output/job_{id}/run{N}/{relativePath}` for outputs.
    var path: String?
    var decryptedSize: Int64
    var md5: String?
    var downloadUrl: String?
    var dateUploaded: String?

    /// Where its bytes are: the URL the server gave, else the documented route.
    var downloadRoute: String { self.downloadUrl ?? "files/\(self.id)/contents/" }
}

/// An entry of `GET jobs/`.
struct JobSummary: Decodable {
    struct Status: Decodable {
        var content: String?
        var reason: String?
    }

    var id: String
    var name: String?
    var dateInserted: String?
    var analysisNames: [String]?
    var jobStatus: Status?
}

/// An entry of `GET analyses/`.
struct AnalysisSummary: Decodable {
    struct Version: Decodable {
        var versionCode: String?
    }

    var code: String
    var name: String?
    var vendorName: String?
    var versions: [Version]?
}
