/// Every route of API.md's route table (shared/API.md, "Routes"), after `/{userId}/api/v2/`,
/// with the service that owns it. The deployment and OpenAPI tests check kong.yml and
/// deploy/openapi.yaml against this list.
enum APIRoutes {
    struct Route: Sendable, CustomStringConvertible {
        var method: String
        /// The path template after `/{userId}/api/v2/`, as API.md writes it.
        var template: String
        var service: String

        var description: String { "\(self.method) \(self.template.isEmpty ? "(API root)" : self.template) -> \(self.service)" }

        /// The template with sample values in its parameters.
        var samplePath: String {
            var path = self.template
            for (name, value) in APIRoutes.samples {
                path = path.replacingOccurrences(of: "{\(name)}", with: value)
            }
            return path
        }
    }

    static let samples: [(String, String)] = [
        ("id", "Ab12Cd"), ("uploadId", "Up34Ef"), ("code", "openfoam"), ("runId", "1"), ("path", "case/log.txt"),
    ]

    static let all: [Route] = [
        Route(method: "GET", template: "", service: "catalog"),
        Route(method: "POST", template: "files/contents/", service: "files"),
        Route(method: "POST", template: "files/content/", service: "files"),
        Route(method: "PUT", template: "files/contents/", service: "files"),
        Route(method: "PUT", template: "files/content/", service: "files"),
        Route(method: "GET", template: "files/", service: "files"),
        Route(method: "GET", template: "files/{id}/", service: "files"),
        Route(method: "PATCH", template: "files/{id}/", service: "files"),
        Route(method: "DELETE", template: "files/{id}/", service: "files"),
        Route(method: "GET", template: "files/{id}/contents/", service: "files"),
        Route(method: "GET", template: "files/{id}/lines/", service: "files"),
        Route(method: "POST", template: "files/uploads/", service: "files"),
        Route(method: "HEAD", template: "files/uploads/{uploadId}", service: "files"),
        Route(method: "PATCH", template: "files/uploads/{uploadId}", service: "files"),
        Route(method: "DELETE", template: "files/uploads/{uploadId}", service: "files"),
        Route(method: "GET", template: "analyses/", service: "catalog"),
        Route(method: "GET", template: "analyses/{code}/", service: "catalog"),
        Route(method: "GET", template: "coretypes/", service: "catalog"),
        Route(method: "GET", template: "coretypes/{code}/", service: "catalog"),
        Route(method: "POST", template: "jobs/", service: "jobs"),
        Route(method: "GET", template: "jobs/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/", service: "jobs"),
        Route(method: "PATCH", template: "jobs/{id}/", service: "jobs"),
        Route(method: "DELETE", template: "jobs/{id}/", service: "jobs"),
        Route(method: "POST", template: "jobs/{id}/submit/", service: "jobs"),
        Route(method: "POST", template: "jobs/{id}/stop/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/runs/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/runs/{runId}/", service: "jobs"),
        Route(method: "POST", template: "jobs/{id}/runs/{runId}/stop/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/runs/{runId}/directory-contents/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/cluster_statuses/", service: "jobs"),
        Route(method: "GET", template: "jobs/{id}/statuses/", service: "status"),
        Route(method: "GET", template: "jobs/statuses/", service: "status"),
        Route(method: "GET", template: "jobs/{id}/files/", service: "files"),
        Route(method: "GET", template: "jobs/{id}/runs/{runId}/files/", service: "files"),
        Route(method: "GET", template: "jobs/{id}/runs/{runId}/tail/{path}", service: "jobs"),
    ]
}
