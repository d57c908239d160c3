import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SimforgeModels

/// The public API at one base URL with one token: JSON calls, paginated lists, and the
/// raw requests transfers need. Every failure becomes a ``CLIError``.
struct APIClient: Sendable {
    let base: URL
    let token: String

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
    }

    /// `route` is relative to the base URL (`jobs/X/`), or an absolute URL the API gave.
    func url(_ route: String) -> String {
        route.hasPrefix("http://") || route.hasPrefix("https://") ? route : self.base.absoluteString + route
    }

    /// A request carrying the token.
    func request(_ method: HTTPMethod, _ route: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: self.url(route))
        request.method = method
        request.headers.add(name: "Authorization", value: "Token \(self.token)")
        request.headers.add(name: "User-Agent", value: "simforge-cli")
        return request
    }

    /// Runs `request`; an answer outside `accept` (default: 2xx) is thrown as the API's error.
    /// `timeout` bounds the wait for the answer's head, not a streamed body.
    func execute(_ request: HTTPClientRequest, accept: (Int) -> Bool = { (200..<300).contains($0) },
                 timeout: TimeAmount = .seconds(120)) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw CLIError(message: "cannot reach \(request.url): \(Self.describe(error))", exitCode: CLIError.unavailable)
        }
        let status = Int(response.status.code)
        guard accept(status) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            throw CLIError.http(status: status, body: body, method: request.method.rawValue, url: request.url)
        }
        return response
    }

    /// A call whose whole answer is read (a JSON body at most 64 MiB).
    func call(_ method: HTTPMethod, _ route: String, json: [UInt8]? = nil, headers: [(String, String)] = [],
              accept: @escaping (Int) -> Bool = { (200..<300).contains($0) }, timeout: TimeAmount = .seconds(120)) async throws -> Answer {
        var request = self.request(method, route)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(json)
        }
        let response = try await self.execute(request, accept: accept, timeout: timeout)
        do {
            let body = try await response.body.collect(upTo: 64 << 20)
            return Answer(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
        } catch {
            throw CLIError(message: "reading the answer of \(request.url) failed: \(Self.describe(error))", exitCode: CLIError.unavailable)
        }
    }

    func get<T: Decodable>(_ route: String, as type: T.Type) async throws -> T {
        try Self.decode(type, from: try await self.call(.GET, route).body, url: self.url(route))
    }

    /// Every item of a paginated list, following `next` links: decoded, and as the JSON the
    /// API sent (for `--json`).
    func list<T: Decodable>(_ route: String, as type: T.Type) async throws -> (items: [T], json: [JSONValue]) {
        var next: String? = route + (route.contains("?") ? "&" : "?") + "page_size=1000"
        var items: [T] = []
        var json: [JSONValue] = []
        while let url = next {
            let body = try await self.call(.GET, url).body
            let page = try Self.decode(ListPage<T>.self, from: body, url: self.url(url))
            items += page.results
            if case .array(let results)? = (try? JSONValue(parsing: String(decoding: body, as: UTF8.self)))?["results"] {
                json += results
            }
            next = page.next
        }
        return (items, json)
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], url: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw CLIError(message: "unexpected answer from \(url): \(Self.describe(error))", exitCode: CLIError.unavailable)
        }
    }

    /// A short description of a transport or decoding error, for the one error line.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .keyNotFound(let key, _): return "no \(key.stringValue)"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                return context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
            @unknown default: return "\(error)"
            }
        }
        return String(describing: error)
    }

    private struct ListPage<T: Decodable>: Decodable {
        var next: String?
        var results: [T]
    }
}

extension JSONValue {
    /// Serialized (keys sorted), for `--json` output.
    var printable: String { String(decoding: self.jsonBytes, as: UTF8.self) }
}
