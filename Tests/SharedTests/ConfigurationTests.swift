import SimforgeServer
import Testing

@Suite struct ConfigurationTests {
    @Test func missingRequiredValueNamesTheVariable() {
        let environment = EnvironmentReader(["POSTGRES_HOST": "db"])
        #expect(throws: ConfigurationError.self) { try PostgresSettings(environment: environment) }
        do {
            _ = try PostgresSettings(environment: environment)
        } catch {
            #expect("\(error)" == "POSTGRES_USER is required but not set")
        }
    }

    @Test func malformedIntegerIsRejectedWithItsRange() {
        let environment = EnvironmentReader(["HTTP_PORT": "eighty"])
        do {
            _ = try HTTPServerConfiguration(environment: environment, defaultPort: 8082)
            Issue.record("expected a configuration error")
        } catch {
            #expect("\(error)".contains("HTTP_PORT must be an integer in 0...65535"))
        }
    }

    @Test func defaultsApplyWhenUnset() throws {
        let http = try HTTPServerConfiguration(environment: EnvironmentReader([:]), defaultPort: 8082)
        #expect(http.host == "127.0.0.1")
        #expect(http.port == 8082)
    }
}
