import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The shipped kong.yml routes every route of API.md built so far to its owner, and nothing else.
@Suite struct RouteTableTests {
    static func table() throws -> RouteTable {
        try RouteTable(services: try KongDeclarativeConfig.load(path: RepositoryPaths.file("kong.yml")).services ?? [])
    }

    @Test(arguments: [
        ("/u1/api/v2/", "catalog", "u1"),
        ("/u1/api/v2", "catalog", "u1"),
        ("/user_2-x/api/v2/analyses/", "catalog", "user_2-x"),
        ("/u1/api/v2/analyses", "catalog", "u1"),
        ("/u1/api/v2/analyses/openfoam/", "catalog", "u1"),
        ("/u1/api/v2/coretypes/", "catalog", "u1"),
        ("/u1/api/v2/coretypes/hpc/", "catalog", "u1"),
        ("/u1/api/v2/files/", "files", "u1"),
        ("/u1/api/v2/files/contents/", "files", "u1"),
        ("/u1/api/v2/files/content", "files", "u1"),
        ("/u1/api/v2/files/Ab12Cd/contents/", "files", "u1"),
        ("/u1/api/v2/files/Ab12Cd/lines/", "files", "u1"),
        ("/u1/api/v2/files/uploads/Ab12Cd", "files", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/files/", "files", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/runs/1/files/", "files", "u1"),
        ("/u1/api/v2/jobs/", "jobs", "u1"),
        ("/u1/api/v2/jobs", "jobs", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/", "jobs", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/submit/", "jobs", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/stop/", "jobs", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/runs/", "jobs", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/runs/1/", "jobs", "u1"),
        ("/u1/api/v2/jobs/statuses/", "status", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/statuses/", "status", "u1"),
        ("/u1/api/v2/jobs/Ab12Cd/statuses", "status", "u1"),
    ])
    func apiRoutesGoToTheirServiceWithTheUserIdCaptured(path: String, service: String, userId: String) throws {
        let match = try #require(try Self.table().match(method: "GET", path: path))
        #expect(match.serviceName == service)
        #expect(match.captures["userId"] == userId)
    }

    @Test(arguments: [
        "/internal/analyses/openfoam/versions/v1912",
        "/u1/api/v3/analyses/",
        "/u1/api/v2/analysesX",
        "/u1/api/v2/filesystem/",
        "/api/v2/analyses/",
        "/u1/x/api/v2/analyses/",
        "/health",
        "/" + String(repeating: "a", count: 65) + "/api/v2/analyses/",
    ])
    func otherPathsMatchNoRoute(path: String) throws {
        #expect(try Self.table().match(method: "GET", path: path) == nil)
    }

    @Test func higherRegexPriorityWinsOverFileOrder() throws {
        let services = [
            KongDeclarativeConfig.Service(name: "jobs", url: "http://jobs", routes: [
                .init(name: "jobs", paths: ["~/(?<userId>[^/]+)/api/v2/jobs(?:/.*)?$"], methods: nil, strip_path: false, regex_priority: 0),
            ]),
            KongDeclarativeConfig.Service(name: "status", url: "http://status", routes: [
                .init(name: "statuses", paths: ["~/(?<userId>[^/]+)/api/v2/jobs/(?P<jobId>[^/]+)/statuses(?:/.*)?$"], methods: nil,
                      strip_path: false, regex_priority: 20),
            ]),
        ]
        let table = try RouteTable(services: services)
        let statuses = try #require(table.match(method: "GET", path: "/u/api/v2/jobs/Ab12Cd/statuses/"))
        #expect(statuses.serviceName == "status")
        #expect(statuses.captures["jobId"] == "Ab12Cd")
        #expect(table.match(method: "GET", path: "/u/api/v2/jobs/Ab12Cd/")?.serviceName == "jobs")
    }

    @Test func routesThatStripThePathAreRefused() {
        let services = [KongDeclarativeConfig.Service(name: "x", url: "http://x", routes: [
            .init(name: "r", paths: ["/x"], methods: nil, strip_path: nil, regex_priority: nil),
        ])]
        #expect(throws: GatewayConfigurationError.self) { try RouteTable(services: services) }
    }
}

@Suite struct RequiredLiteralTests {
    @Test(arguments: [
        ("/(?<userId>[A-Za-z0-9_-]{1,64})/api/v2/jobs(?:/.*)?$", ["/", "/api/v2/jobs"]),
        ("/(?<userId>[A-Za-z0-9_-]{1,64})/api/v2/jobs/[^/]+/statuses/?$", ["/", "/api/v2/jobs/", "/statuses"]),
        ("/a[\\]x]b\\.c", ["/a", "b", "c"]),
        ("/files|/jobs", []),
        ("(?i)/files", []),
        ("/ab+c", ["/a", "c"]),
    ])
    func areWhatEveryMatchContains(pattern: String, literals: [String]) {
        #expect(RouteTable.requiredLiterals(in: pattern) == literals)
    }
}

@Suite struct PathNormalizerTests {
    @Test(arguments: [
        ("/u/api/v2/analyses/", "/u/api/v2/analyses/"),
        ("/u/api/v2/%61nalyses/", "/u/api/v2/analyses/"),
        ("/u/api/v2/./analyses", "/u/api/v2/analyses"),
        ("/u/api/v2/../../internal/x", "/u/internal/x"),
        ("/u/api/v2/analyses/..", "/u/api/v2/"),
        ("/u/api/v2/a%2fb", "/u/api/v2/a%2Fb"),
    ])
    func normalizes(input: String, expected: String) {
        #expect(PathNormalizer.normalize(input) == expected)
    }

    @Test func climbingAboveTheRootIsRefused() {
        #expect(PathNormalizer.normalize("/../internal/x") == nil)
        #expect(PathNormalizer.normalize("/u/../../internal") == nil)
    }
}
