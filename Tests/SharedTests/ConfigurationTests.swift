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

    @Test func serviceURLsAreAListCheckedAtStart() throws {
        let environment = EnvironmentReader(["JOBS_URL": "http://127.0.0.1:8083/, http://127.0.0.1:8093", "FILES_URL": "http://files:8081,files"])
        #expect(try environment.requireServiceURLs("JOBS_URL") == "http://127.0.0.1:8083,http://127.0.0.1:8093")
        #expect(try environment.serviceURLs("STATUS_URL") == nil)
        #expect(throws: ConfigurationError.self) { try environment.requireServiceURLs("STATUS_URL") }
        do {
            _ = try environment.requireServiceURLs("FILES_URL")
            Issue.record("expected a configuration error")
        } catch {
            #expect("\(error)".hasPrefix("FILES_URL: 'files' is not an http(s) base URL"))
        }
    }
}
