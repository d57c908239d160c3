import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The operator's scripts of the compose deployment: adding users, rendering the file
/// Kong loads (which the dev gateway then honours too), the database init script.
@Suite struct ComposeScriptsTests {
    static let gateway = ["GATEWAY_SECRET": "0123456789abcdefXYZ"]

    @Test func addedUsersAreInTheRenderedKongFileAndTheDevGatewayHonoursThem() async throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let secrets = folder.appendingPathComponent("secrets")
        let generated = try Shell.bash("deploy/compose/generate-env.sh", ["--env-file", folder.appendingPathComponent(".env").path, "--secrets-dir", secrets.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let users = secrets.appendingPathComponent("consumers.yml").path
        let environment = try String(contentsOf: folder.appendingPathComponent(".env"), encoding: .utf8)
        let secret = try #require(environment.split(separator: "\n").first { $0.hasPrefix("GATEWAY_SECRET=") }?.dropFirst("GATEWAY_SECRET=".count))
        let gateway = ["GATEWAY_SECRET": String(secret)]

        // No users yet: the rendered file is kong.yml's, with the gateway's secret in place.
        let empty = try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), users], environment: gateway)
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout.contains(#"set_header("x-gateway-secret", "\#(secret)")"#))
        #expect(!empty.stdout.contains("__GATEWAY_SECRET__"))
        for unsafe in ["", "short", "has space or \"quote\" ok"] {
            let refused = try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), users], environment: ["GATEWAY_SECRET": unsafe])
            #expect(refused.status != 0, "rendered with GATEWAY_SECRET='\(unsafe)'")
        }

        let alice = try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "alice"])
        #expect(alice.status == 0, "\(alice.stderr)")
        let aliceToken = try #require(alice.stdout.split(separator: "\n").first { $0.hasPrefix("API token: ") }?.dropFirst("API token: ".count))
        let bob = try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "bob-2", "Bob"])
        #expect(bob.status == 0, "\(bob.stderr)")
        #expect(try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "alice"]).status != 0, "a duplicate user id")
        #expect(try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "carol", "Bob"]).status != 0, "a duplicate username")
        #expect(try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "a/b"]).status != 0, "not a path segment")
        #expect(try Shell.bash("deploy/compose/add-user.sh", ["--file", users, "anonymous"]).status != 0, "reserved")

        let rendered = try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), users], environment: gateway)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let renderedFile = folder.appendingPathComponent("kong.yml")
        try rendered.stdout.write(to: renderedFile, atomically: true, encoding: .utf8)
        let config = try KongDeclarativeConfig.load(path: renderedFile.path)
        #expect(config.consumers?.map(\.custom_id) == ["-anonymous-", "alice", "bob-2"])
        let kong = try KongDeclarativeConfig.load(path: RepositoryPaths.file("kong.yml"))
        #expect(config.plugins?.map(\.name) == kong.plugins?.map(\.name))
        #expect(config.services?.map(\.name) == kong.services?.map(\.name))

        // The dev gateway loads the rendered file alone, and kong.yml plus the users file.
        for files in [[renderedFile.path], [RepositoryPaths.file("kong.yml"), users]] {
            let policy = try GatewayPolicy(configs: try files.map(KongDeclarativeConfig.load(path:)))
            #expect(policy.decide(key: String(aliceToken), pathUserID: "alice") == .allow(.init(id: "alice", username: "alice", customID: "alice")))
            #expect(policy.decide(key: String(aliceToken), pathUserID: "bob-2") == .forbidden)
        }
        try await GatewayHarness.echoUpstream().test(.live) { upstream in
            let configuration = try GatewayConfiguration(environment: EnvironmentReader(["GATEWAY_SECRET": "test-gateway-secret",
                "GATEWAY_PORT": "0", "GATEWAY_CONFIG": "\(RepositoryPaths.file("kong.yml")),\(users)",
                "GATEWAY_UPSTREAM_CATALOG": "http://127.0.0.1:\(try #require(upstream.port))",
            ]))
            try await buildApplication(configuration: configuration, logger: Logger(label: "gateway-test")).test(.live) { client in
                let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token(String(aliceToken)))
                #expect(response.status == .ok)
                #expect(try GatewayHarness.echo(response).headers["x-consumer-custom-id"] == "alice")
            }
        }
    }

    @Test func runLocalsUsersFileRendersToo() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let users = folder.appendingPathComponent("consumers.yml")
        // The format deploy/run-local.sh writes.
        try """
            # Generated by deploy/run-local.sh: the demo users and their API tokens. Never commit.
            consumers:
              - username: alice
                custom_id: alice
                keyauth_credentials:
                  - key: "t1"
            """.write(to: users, atomically: true, encoding: .utf8)
        let rendered = try Shell.bash(
            "deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), users.path], environment: Self.gateway)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        try rendered.stdout.write(to: folder.appendingPathComponent("kong.yml"), atomically: true, encoding: .utf8)
        let config = try KongDeclarativeConfig.load(path: folder.appendingPathComponent("kong.yml").path)
        #expect(config.consumers?.compactMap(\.custom_id) == ["-anonymous-", "alice"])
    }

    @Test func renderingRefusesFilesItCannotAppendSafely() throws {
        // Everything else would render: only the file is at fault.
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let extra = folder.appendingPathComponent("extra.yml")
        try "consumers:\n  - username: a\n    custom_id: a\nplugins: []\n".write(to: extra, atomically: true, encoding: .utf8)
        #expect(try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), extra.path], environment: Self.gateway).status != 0)
        let unindented = folder.appendingPathComponent("unindented.yml")
        try "consumers:\n- username: a\n  custom_id: a\n".write(to: unindented, atomically: true, encoding: .utf8)
        #expect(try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), unindented.path], environment: Self.gateway).status != 0)
        let notLast = folder.appendingPathComponent("kong.yml")
        try "consumers:\n  - username: anonymous\nplugins: []\n".write(to: notLast, atomically: true, encoding: .utf8)
        #expect(try Shell.bash("deploy/compose/render-kong.sh", [notLast.path], environment: Self.gateway).status != 0)
        #expect(try Shell.bash("deploy/compose/render-kong.sh", [RepositoryPaths.file("kong.yml"), folder.appendingPathComponent("missing.yml").path], environment: Self.gateway).status != 0)
    }

    /// The postgres image runs deploy/compose/postgres-init.sh with psql on its socket; here
    /// it runs against the test server in a database of its own.
    @Test func postgresInitGivesEachServiceItsOwnRoleAndSchema() async throws {
        let server = try TestPostgres.serverSettings()
        try await TestPostgres.withFreshDatabase { settings in
            var environment = [
                "PGHOST": settings.host, "PGPORT": String(settings.port), "PGPASSWORD": server.password,
                "POSTGRES_USER": server.username, "POSTGRES_DB": settings.database,
            ]
            var passwords: [String: String] = [:]
            for role in DeploymentTests.services {
                passwords[role] = "pw-\(role)-\(UUID().uuidString.prefix(8))"
                environment["\(role.uppercased())_DB_PASSWORD"] = passwords[role]
            }
            let first = try Shell.bash("deploy/compose/postgres-init.sh", environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            // Idempotent: a second run (new passwords) succeeds and applies them.
            for role in DeploymentTests.services {
                passwords[role] = "pw2-\(role)-\(UUID().uuidString.prefix(8))"
                environment["\(role.uppercased())_DB_PASSWORD"] = passwords[role]
            }
            let second = try Shell.bash("deploy/compose/postgres-init.sh", environment: environment)
            #expect(second.status == 0, "\(second.stderr)")

            for role in DeploymentTests.services {
                let others = DeploymentTests.services.filter { $0 != role }
                let sql = "SELECT current_user, (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = current_user), "
                    + others.map { "has_schema_privilege('\($0)', 'USAGE')" }.joined(separator: ", ")
                    + ", has_database_privilege(current_database(), 'CREATE')"
                let check = try Shell.run(["psql", "-X", "-tA", "-F", ",", "-c", sql], environment: [
                    "PGHOST": settings.host, "PGPORT": String(settings.port), "PGDATABASE": settings.database,
                    "PGUSER": role, "PGPASSWORD": passwords[role]!,
                ])
                #expect(check.status == 0, "\(role): \(check.stderr)")
                #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(role),\(role),f,f,f,t", "\(role): \(check.stdout)")
            }
        }
    }
}
