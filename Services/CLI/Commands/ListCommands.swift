import ArgumentParser
import Foundation
import SimforgeModels

/// `--json` of the listing commands: every item of every page as one JSON array.
struct ListOptions: ParsableArguments {
    @Flag(help: "Print every item as the API sent it, as one JSON array.")
    var json = false

    /// The items as a table, or as JSON.
    func print<T: Decodable>(_ route: String, as type: T.Type, client: APIClient, header: [String], row: (T) -> [String]) async throws {
        let (items, json) = try await client.list(route, as: type)
        if self.json {
            Terminal.output(JSONValue.array(json).printable)
        } else {
            Terminal.output(Self.table([header] + items.map(row)))
        }
    }

    /// Columns padded to their widest cell, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int](repeating: 0, count: rows.first?.count ?? 0)) { widths, row in
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List your jobs, newest first.",
        discussion: """
            Example:
              simforge jobs --search cavity
              simforge jobs --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var list: ListOptions

    @Option(help: "Only jobs whose name contains this.")
    var search: String?

    func run() async throws {
        let query = self.search.map { "?search=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        try await self.list.print("jobs/" + query, as: JobSummary.self, client: try self.connection.client(),
                                  header: ["ID", "NAME", "STATUS", "REASON", "CREATED"]) { job in
            [job.id, job.name ?? "", job.jobStatus?.content ?? "", job.jobStatus?.reason ?? "", job.dateInserted ?? ""]
        }
    }
}

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "List your uploaded files.",
        discussion: """
            Example:
              simforge files --search cavity
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var list: ListOptions

    @Option(help: "Only files whose name contains this.")
    var search: String?

    func run() async throws {
        let query = self.search.map { "?search=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        try await self.list.print("files/" + query, as: OutputFile.self, client: try self.connection.client(),
                                  header: ["ID", "NAME", "SIZE", "MD5", "UPLOADED"]) { file in
            [file.id, file.name, ProgressDisplay.bytes(file.decryptedSize), file.md5 ?? "", file.dateUploaded ?? ""]
        }
    }
}

struct AnalysesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyses", abstract: "List the analyses jobs can run, with their version codes (newest first).",
        discussion: """
            Example:
              simforge analyses
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var list: ListOptions

    func run() async throws {
        try await self.list.print("analyses/", as: AnalysisSummary.self, client: try self.connection.client(),
                                  header: ["CODE", "NAME", "VENDOR", "VERSIONS"]) { analysis in
            [analysis.code, analysis.name ?? "", analysis.vendorName ?? "",
             (analysis.versions ?? []).compactMap(\.versionCode).joined(separator: ",")]
        }
    }
}
