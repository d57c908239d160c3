import Foundation
import SimforgeTestSupport
import Testing
import Yams
@testable import DevGateway

/// The deployment's structure (issue 6, acceptance): kong.yml routes every route of API.md
/// to its owner by Kong's priority rules and never /internal/, files routes stream, and
/// docker-compose.yml publishes only Kong's port and checks every service's health.
@Suite struct DeploymentTests {
    static let services = ["catalog", "files", "jobs", "status"]

    static func yaml(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: RepositoryPaths.file(path), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(path) is not a YAML mapping")
    }

    static func table() throws -> RouteTable {
        try RouteTable(services: try KongDeclarativeConfig.load(path: RepositoryPaths.file("kong.yml")).services ?? [])
    }

    static func kongRoutes() throws -> [(service: String, route: [String: Any])] {
        let services = try #require(try Self.yaml("kong.yml")["services"] as? [[String: Any]])
        return try services.flatMap { service in
            let name = try #require(service["name"] as? String)
            return ((service["routes"] as? [[String: Any]]) ?? []).map { (name, $0) }
        }
    }

    static func compose() throws -> [String: [String: Any]] {
        try #require(try Self.yaml("docker-compose.yml")["services"] as? [String: [String: Any]])
    }

    // MARK: - kong.yml

    @Test(arguments: APIRoutes.all)
    func everyAPIRouteGoesToItsOwner(route: APIRoutes.Route) throws {
        let table = try Self.table()
        let path = route.samplePath
        // With and without the trailing slash (API.md: routes accept both).
        let full = "/u-1_x/api/v2/" + path
        let variants = [full, full.hasSuffix("/") ? String(full.dropLast()) : full + "/"]
        for variant in variants {
            let match = try #require(table.match(method: route.method, path: variant), "no route for \(route.method) \(variant)")
            #expect(match.serviceName == route.service, "\(route.method) \(variant) goes to \(match.serviceName)")
            #expect(match.captures["userId"] == "u-1_x", "\(variant): the post-function needs the userId capture")
        }
    }

    @Test func everyRouteKeepsThePathAndCapturesTheUserId() throws {
        for (service, route) in try Self.kongRoutes() {
            let name = route["name"] as? String ?? "?"
            #expect(route["strip_path"] as? Bool == false, "\(service)/\(name): strip_path must be false")
            #expect(route["methods"] == nil, "\(service)/\(name): a route with methods outranks every route without")
            let paths = try #require(route["paths"] as? [String])
            for path in paths {
                #expect(path.hasPrefix("~/(?<userId>[A-Za-z0-9_-]{1,64})/api/v2/"), "\(service)/\(name): \(path)")
                #expect(!path.contains("internal"), "\(service)/\(name): \(path)")
            }
        }
    }

    @Test func filesRoutesStreamBothWays() throws {
        let filesRoutes = try Self.kongRoutes().filter { $0.service == "files" }
        #expect(filesRoutes.count >= 2)
        for (_, route) in filesRoutes {
            #expect(route["request_buffering"] as? Bool == false, "\(route["name"] ?? "?"): uploads must not be spooled")
            #expect(route["response_buffering"] as? Bool == false, "\(route["name"] ?? "?"): downloads must not be buffered")
        }
        // No plugin that reads bodies (request-size-limiting would, without Content-Length).
        let plugins = try #require(try Self.yaml("kong.yml")["plugins"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(!plugins.contains("request-size-limiting"))
        #expect(!plugins.contains("request-transformer"))
    }

    @Test(arguments: [
        "/internal/keys/rotate",
        "/internal/jobs/Ab12Cd/events",
        "/internal/files/Ab12Cd/contents",
        "/internal/analyses/openfoam/versions/v1912",
        "/internal/statuses",
        "/u1/api/v2/../../internal/keys/rotate",
    ])
    func internalRoutesAreNeverRouted(path: String) throws {
        let normalized = try #require(PathNormalizer.normalize(path))
        #expect(try Self.table().match(method: "POST", path: normalized) == nil)
        #expect(try Self.table().match(method: "GET", path: normalized) == nil)
    }

    @Test func aUserNamedInternalCannotReachInternalPaths() throws {
        // The regexes would take /internal/api/v2/... as user "internal"'s prefix: the
        // pre-function refuses such paths first, and add-user.sh refuses the id.
        let kong = try String(contentsOfFile: RepositoryPaths.file("kong.yml"), encoding: .utf8)
        #expect(kong.contains(#"path:sub(1, 10) == "/internal/""#))
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let users = folder.appendingPathComponent("consumers.yml")
        try "consumers:\n".write(to: users, atomically: true, encoding: .utf8)
        let refused = try Shell.bash("deploy/compose/add-user.sh", ["--file", users.path, "internal"])
        #expect(refused.status != 0)
    }

    @Test func consumersIsTheLastSectionSoUsersCanBeAppended() throws {
        let text = try String(contentsOfFile: RepositoryPaths.file("kong.yml"), encoding: .utf8)
        let topLevel = text.split(separator: "\n").filter { $0.first.map { $0.isLetter || $0 == "_" } ?? false }
        #expect(topLevel.last.map(String.init) == "consumers:")
    }

    @Test func thePolicyPluginsAreThere() throws {
        let plugins = try #require(try Self.yaml("kong.yml")["plugins"] as? [[String: Any]])
        func config(_ name: String) throws -> [String: Any] {
            try #require(plugins.first { $0["name"] as? String == name }?["config"] as? [String: Any], "plugin \(name)")
        }
        #expect(try config("pre-function")["access"] != nil)
        #expect(try config("post-function")["access"] != nil)
        let keyAuth = try config("key-auth")
        #expect(keyAuth["hide_credentials"] as? Bool == true)
        #expect(keyAuth["key_in_query"] as? Bool == false)
        #expect(keyAuth["key_in_body"] as? Bool == false)
        let rateLimiting = try config("rate-limiting")
        #expect(rateLimiting["policy"] as? String == "local")
        #expect(rateLimiting["limit_by"] as? String == "consumer")
        #expect(try config("correlation-id")["header_name"] as? String == "X-Request-ID")
        #expect(try config("correlation-id")["echo_downstream"] as? Bool == true)
        _ = try config("prometheus")
    }

    // MARK: - docker-compose.yml

    @Test func onlyKongPublishesPorts() throws {
        let compose = try Self.compose()
        #expect(Set(compose.keys) == Set(Self.services + ["db", "kong"]))
        for (name, service) in compose where name != "kong" {
            #expect(service["ports"] == nil, "\(name) publishes ports")
            #expect(service["network_mode"] == nil, "\(name) shares a network namespace")
        }
        let ports = try #require(compose["kong"]?["ports"] as? [String])
        #expect(ports.count == 1)
        #expect(ports.allSatisfy { $0.hasSuffix(":8000") }, "Kong publishes its proxy port only, not the admin or status API")
    }

    @Test func everyServiceHasAHealthCheck() throws {
        let compose = try Self.compose()
        for (name, service) in compose {
            let check = try #require(service["healthcheck"] as? [String: Any], "\(name) has no health check")
            let test = try #require(check["test"] as? [String], "\(name): healthcheck.test")
            #expect(test.first == "CMD" && test.count > 1, "\(name): \(test)")
        }
        for name in Self.services {
            let service = try #require(compose[name])
            let environment = try #require(service["environment"] as? [String: Any])
            let port = try #require(environment["HTTP_PORT"] as? String)
            let test = try #require((service["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(test.contains("http://127.0.0.1:\(port)/ready"), "\(name) checks \(test)")
        }
        let kong = try #require(compose["kong"]?["environment"] as? [String: Any])
        let statusPort = try #require((kong["KONG_STATUS_LISTEN"] as? String)?.split(separator: ":").last.map(String.init))
        let kongCheck = try #require((compose["kong"]?["healthcheck"] as? [String: Any])?["test"] as? [String])
        #expect(kongCheck.joined(separator: " ").contains("/dev/tcp/127.0.0.1/\(statusPort)"))
        #expect(kongCheck.joined(separator: " ").contains("GET /status/ready"))
    }

    @Test func kongRunsDBLessWithKongYml() throws {
        let kong = try #require(try Self.compose()["kong"])
        #expect((kong["image"] as? String)?.hasPrefix("kong:3.") == true)
        let environment = try #require(kong["environment"] as? [String: Any])
        // Quoted in the file: an unquoted off is a YAML 1.1 boolean.
        #expect(environment["KONG_DATABASE"] as? String == "off")
        #expect(environment["KONG_DECLARATIVE_CONFIG"] as? String != nil)
        #expect(environment["KONG_ROUTER_FLAVOR"] as? String == "traditional_compatible")
        #expect((environment["KONG_ADMIN_LISTEN"] as? String)?.hasPrefix("127.0.0.1:") == true)
        let volumes = try #require(kong["volumes"] as? [String])
        #expect(volumes.contains("./kong.yml:/kong/kong.yml:ro"))
        let command = try #require(kong["command"] as? [String]).joined(separator: " ")
        #expect(command.contains("render-kong.sh /kong/kong.yml /kong/consumers.yml > \(environment["KONG_DECLARATIVE_CONFIG"] as? String ?? "?")"))
        #expect(command.contains("exec /docker-entrypoint.sh kong docker-start"))
    }

    @Test func kongBalancesOverEveryReplicaOfEachComposeService() throws {
        let kong = try KongDeclarativeConfig.load(path: RepositoryPaths.file("kong.yml"))
        let compose = try Self.compose()
        for service in kong.services ?? [] {
            // The service's host is an upstream whose targets are compose services on their port.
            let host = try #require(URL(string: service.url)?.host)
            let upstream = try #require(kong.upstreams?.first { $0.name == host }, "\(service.name) has no upstream")
            let targets = try #require(upstream.targets)
            #expect(!targets.isEmpty)
            for target in targets {
                let parts = target.target.split(separator: ":").map(String.init)
                let composeService = try #require(compose[parts[0]], "target \(target.target) is no compose service")
                #expect((composeService["environment"] as? [String: Any])?["HTTP_PORT"] as? String == parts.last)
                // Scalable: no fixed name, no published port, a replica count.
                #expect(composeService["container_name"] == nil && composeService["ports"] == nil)
                #expect((composeService["deploy"] as? [String: Any])?["replicas"] as? String == "${\(parts[0].uppercased())_REPLICAS:-1}")
            }
            let checks = try #require(upstream.healthchecks)
            #expect(checks.active?.http_path == "/ready" && (checks.active?.healthy?.interval ?? 0) > 0)
            #expect((checks.passive?.unhealthy?.tcp_failures ?? 0) > 0)
            // The dev gateway honours the same section.
            #expect(try HealthPolicy(checks, upstream: upstream.name).probes)
        }
    }

    @Test func servicesAreBuiltFromTheDockerfileAndUseTheirOwnDatabaseRole() throws {
        let compose = try Self.compose()
        for name in Self.services {
            let service = try #require(compose[name])
            let build = try #require(service["build"] as? [String: Any])
            #expect(build["dockerfile"] as? String == "deploy/Dockerfile")
            #expect((build["args"] as? [String: Any])?["SERVICE"] as? String == name)
            let environment = try #require(service["environment"] as? [String: Any])
            #expect(environment["HTTP_HOST"] as? String == "0.0.0.0")
            #expect(environment["POSTGRES_HOST"] as? String == "db")
            #expect(environment["POSTGRES_USER"] as? String == name)
            #expect((environment["POSTGRES_PASSWORD"] as? String)?.hasPrefix("${\(name.uppercased())_DB_PASSWORD:?") == true)
            #expect((environment["INTERNAL_TOKEN"] as? String)?.hasPrefix("${INTERNAL_TOKEN:?") == true)
            let dependsOn = try #require(service["depends_on"] as? [String: Any])
            #expect((dependsOn["db"] as? [String: Any])?["condition"] as? String == "service_healthy")
        }
        let files = try #require(compose["files"]?["environment"] as? [String: Any])
        #expect((files["FILES_MASTER_KEYS"] as? String)?.hasPrefix("${FILES_MASTER_KEYS:?") == true)
        #expect((compose["files"]?["volumes"] as? [String])?.contains("file-storage:\(files["FILES_STORAGE_DIR"] as? String ?? "?")") == true)
        #expect((compose["db"]?["volumes"] as? [String])?.contains("db-data:/var/lib/postgresql/data") == true)
        let jobs = try #require(compose["jobs"]?["environment"] as? [String: Any])
        #expect(jobs["JOBS_BACKEND"] as? String == "local")
        #expect(jobs["JOBS_AGENT_PATH"] as? String == "/usr/local/bin/simforge-agent")
        #expect(jobs["CATALOG_URL"] as? String == "http://catalog:8082")
        #expect(jobs["FILES_URL"] as? String == "http://files:8081")
        #expect(jobs["STATUS_URL"] as? String == "http://status:8084")
    }

    @Test func secretsComeOnlyFromTheGeneratedEnvFile() throws {
        let text = try String(contentsOfFile: RepositoryPaths.file("docker-compose.yml"), encoding: .utf8)
        let settings = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(separator: "\n")
        let required = Set(settings.matches(of: /\$\{([A-Z0-9_]+):\?/).map { String($0.output.1) })
        #expect(required.isSuperset(of: ["POSTGRES_SUPERUSER_PASSWORD", "INTERNAL_TOKEN", "FILES_MASTER_KEYS", "FILES_DB_PASSWORD"]))
        // Every secret-looking value is a reference, never a literal.
        for (name, service) in try Self.compose() {
            for (variable, value) in (service["environment"] as? [String: Any]) ?? [:]
            where variable.contains("PASSWORD") || variable.contains("TOKEN") || variable.hasSuffix("_KEYS") {
                #expect((value as? String)?.hasPrefix("${") == true, "\(name): \(variable) is not taken from .env")
            }
        }
        // generate-env.sh writes every one of them, and refuses to overwrite.
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let envFile = folder.appendingPathComponent(".env").path
        let secrets = folder.appendingPathComponent("secrets").path
        let generated = try Shell.bash("deploy/compose/generate-env.sh", ["--env-file", envFile, "--secrets-dir", secrets])
        #expect(generated.status == 0, "\(generated.stderr)")
        let env = try String(contentsOfFile: envFile, encoding: .utf8)
        let defined = Set(env.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(defined.isSuperset(of: required), "missing from .env: \(required.subtracting(defined))")
        let attributes = try FileManager.default.attributesOfItem(atPath: envFile)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0, ".env must be readable by its owner only")
        let again = try Shell.bash("deploy/compose/generate-env.sh", ["--env-file", envFile, "--secrets-dir", secrets])
        #expect(again.stderr.contains("keeping it"))
        #expect(try String(contentsOfFile: envFile, encoding: .utf8) == env)
        // The master key is one the files service accepts: id:base64 of 32 bytes.
        let keys = try #require(env.split(separator: "\n").first { $0.hasPrefix("FILES_MASTER_KEYS=") })
        let spec = keys.dropFirst("FILES_MASTER_KEYS=".count).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let parts = spec.split(separator: ":", maxSplits: 1)
        #expect(parts.count == 2 && Data(base64Encoded: String(parts[1]))?.count == 32)
        // The gitignore keeps them out of commits.
        let gitignore = try String(contentsOfFile: RepositoryPaths.file(".gitignore"), encoding: .utf8)
        #expect(gitignore.contains("/.env") && gitignore.contains("/deploy/compose/secrets/"))
    }

    @Test func theSlurmOverrideSwitchesTheBackendAndPublishesOnlyOnTheClusterAddress() throws {
        let slurm = try #require(try Self.yaml("deploy/compose/slurm.yml")["services"] as? [String: [String: Any]])
        let jobs = try #require(slurm["jobs"]?["environment"] as? [String: Any])
        #expect(jobs["JOBS_BACKEND"] as? String == "slurm")
        #expect(jobs["SLURM_CONF"] as? String == "/etc/slurm/slurm.conf")
        #expect(((slurm["jobs"]?["build"] as? [String: Any])?["args"] as? [String: Any])?["SLURM_CLIENT"] as? String == "true")
        for (name, service) in slurm {
            for port in (service["ports"] as? [String]) ?? [] {
                #expect(port.hasPrefix("${SIMFORGE_CLUSTER_BIND:?"), "\(name) publishes \(port) beyond the cluster address")
            }
        }
    }

    @Test func theDockerfileBuildsEveryExecutableAsANonRootUser() throws {
        let text = try String(contentsOfFile: RepositoryPaths.file("deploy/Dockerfile"), encoding: .utf8)
        #expect(text.contains("ARG SERVICE"))
        #expect(text.contains("FROM ${SWIFT_IMAGE} AS build") && text.contains("ARG SWIFT_IMAGE=swift:6."))
        #expect(text.contains("--static-swift-stdlib"))
        #expect(text.contains(#"products="jobs simforge-agent""#))
        #expect(text.contains("COPY deploy/catalog.yml /etc/simforge/catalog.yml"))
        let user = try #require(text.split(separator: "\n").last { $0.hasPrefix("USER ") })
        #expect(!user.contains("root"))
        for service in Self.services + ["dev-gateway"] {
            #expect(text.contains("\(service)|") || text.contains("|\(service))"), "SERVICE=\(service) is not accepted")
        }
        // Every product the Dockerfile builds exists in Package.swift (simforge-agent lands with job execution).
        let package = try String(contentsOfFile: RepositoryPaths.file("Package.swift"), encoding: .utf8)
        for service in Self.services + ["dev-gateway"] {
            #expect(package.contains(#".executable(name: "\#(service)""#))
        }
        let ignore = try String(contentsOfFile: RepositoryPaths.file("deploy/Dockerfile.dockerignore"), encoding: .utf8)
        #expect(ignore.split(separator: "\n").first { !$0.hasPrefix("#") } == "*", "the build context starts empty")
    }
}
