import ArgumentParser
import Foundation

/// `--url` and `--token`, shared by every command. Each falls back to the environment
/// (`SIMFORGE_URL`, `SIMFORGE_TOKEN`, the names `deploy/run-local.sh` writes to
/// `.data/local.env`), then to `~/.config/simforge/config` (same `NAME=value` lines, so
/// that file can be a copy of local.env).
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("API base URL, e.g. https://HOST/alice/api/v2/ (default: $SIMFORGE_URL).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("API token (default: $SIMFORGE_TOKEN).", valueName: "token"))
    var token: String?

    /// The client for the resolved URL and token; a usage error when either is missing.
    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        let file = Self.configFile(environment)
        guard let url = self.url ?? environment["SIMFORGE_URL"] ?? file["SIMFORGE_URL"], !url.isEmpty else {
            throw CLIError.usage("no API URL: pass --url, set SIMFORGE_URL, or put SIMFORGE_URL=... in \(Self.configPath(environment))")
        }
        guard let token = self.token ?? environment["SIMFORGE_TOKEN"] ?? file["SIMFORGE_TOKEN"], !token.isEmpty else {
            throw CLIError.usage("no API token: pass --token, set SIMFORGE_TOKEN, or put SIMFORGE_TOKEN=... in \(Self.configPath(environment))")
        }
        guard let base = URL(string: url.hasSuffix("/") ? url : url + "/"), base.scheme == "http" || base.scheme == "https" else {
            throw CLIError.usage("not an http(s) URL: \(url)")
        }
        return APIClient(base: base, token: token)
    }

    static func configPath(_ environment: [String: String]) -> String {
        let home = environment["XDG_CONFIG_HOME"] ?? (NSHomeDirectory() + "/.config")
        return home + "/simforge/config"
    }

    /// `NAME=value` lines (an optional `export `, quotes and `#` comments allowed).
    private static func configFile(_ environment: [String: String]) -> [String: String] {
        guard let text = try? String(contentsOfFile: Self.configPath(environment), encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            var line = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line.removeFirst("export ".count) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            values[String(line[..<equals])] = value
        }
        return values
    }
}
