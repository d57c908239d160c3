import Foundation

/// Kong's route selection (router flavor `traditional_compatible`) over the routes of
/// kong.yml: regex paths (`~...`, anchored at the start) before prefix paths, a route with
/// `methods` before one without, then higher `regex_priority`, then longer prefixes.
struct RouteTable: Sendable {
    struct Match: Sendable {
        var routeName: String
        var serviceName: String
        /// Named captures of the regex path (`userId`, ...).
        var captures: [String: String]
    }

    private struct Entry: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe
        var routeName: String
        var serviceName: String
        var methods: Set<String>?
        var regex: NSRegularExpression?
        /// Text every match of `regex` contains: a path without it is passed over without
        /// running the regex (most requests are tested against several routes).
        var requiredLiterals: [String] = []
        var captureNames: [String]
        var prefix: String
        var priority: Int
    }

    private let entries: [Entry]

    init(services: [KongDeclarativeConfig.Service]) throws {
        var entries: [Entry] = []
        for service in services {
            for (routeIndex, route) in (service.routes ?? []).enumerated() {
                let routeName = route.name ?? "\(service.name)-\(routeIndex)"
                guard route.strip_path == false else {
                    throw GatewayConfigurationError("route '\(routeName)': the dev gateway (like our Kong setup) needs strip_path: false")
                }
                for path in route.paths {
                    var entry = Entry(
                        routeName: routeName, serviceName: service.name,
                        methods: route.methods.map { Set($0.map { $0.uppercased() }) },
                        regex: nil, captureNames: [], prefix: path, priority: route.regex_priority ?? 0)
                    if path.hasPrefix("~") {
                        let pattern = String(path.dropFirst())
                        do {
                            entry.regex = try NSRegularExpression(pattern: "^(?:" + pattern.replacingOccurrences(of: "(?P<", with: "(?<") + ")")
                        } catch {
                            throw GatewayConfigurationError("route '\(routeName)': invalid regex path \(path)")
                        }
                        entry.captureNames = Self.captureNames(in: pattern)
                        entry.requiredLiterals = Self.requiredLiterals(in: pattern)
                    }
                    entries.append(entry)
                }
            }
        }
        // Stable sort: file order breaks the remaining ties.
        self.entries = entries.enumerated().sorted { lhs, rhs in
            let (l, r) = (lhs.element, rhs.element)
            if (l.methods != nil) != (r.methods != nil) { return l.methods != nil }
            if (l.regex != nil) != (r.regex != nil) { return l.regex != nil }
            if l.regex != nil, l.priority != r.priority { return l.priority > r.priority }
            if l.regex == nil, l.prefix.count != r.prefix.count { return l.prefix.count > r.prefix.count }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// The route for a normalized request path, or `nil` (Kong's 404 "no Route matched").
    func match(method: String, path: String) -> Match? {
        for entry in self.entries {
            if let methods = entry.methods, !methods.contains(method.uppercased()) { continue }
            if let regex = entry.regex {
                if !entry.requiredLiterals.allSatisfy({ path.contains($0) }) { continue }
                let range = NSRange(path.startIndex..., in: path)
                guard let result = regex.firstMatch(in: path, options: [.anchored], range: range) else { continue }
                var captures: [String: String] = [:]
                for name in entry.captureNames {
                    let captured = result.range(withName: name)
                    if captured.location != NSNotFound, let swiftRange = Range(captured, in: path) {
                        captures[name] = String(path[swiftRange])
                    }
                }
                return Match(routeName: entry.routeName, serviceName: entry.serviceName, captures: captures)
            } else if path.hasPrefix(entry.prefix) {
                return Match(routeName: entry.routeName, serviceName: entry.serviceName, captures: [:])
            }
        }
        return nil
    }

    /// The runs of plain characters a pattern has outside every group, class and
    /// quantified atom: any match contains each of them. None for a pattern with an
    /// alternation outside groups or with inline flags (then nothing is required).
    static func requiredLiterals(in pattern: String) -> [String] {
        if pattern.contains("(?i") || pattern.contains("(?x") { return [] }
        var runs: [String] = []
        var run = ""
        var depth = 0
        var characters = pattern.makeIterator()
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = ""
        }
        while let character = characters.next() {
            switch character {
            case "\\":
                endRun()
                _ = characters.next()
            case "[":
                endRun()
                // A class, to its closing bracket (an escaped or leading `]` belongs to it).
                var first = true
                while let inner = characters.next() {
                    if inner == "\\" { _ = characters.next() } else if inner == "]" && !first { break }
                    first = false
                }
            case "(":
                endRun()
                depth += 1
            case ")":
                endRun()
                depth -= 1
            case "|":
                if depth == 0 { return [] }
            case "?", "*", "+", "{":
                // The quantified character is not required.
                if !run.isEmpty { run.removeLast() }
                endRun()
                if character == "{" { while let inner = characters.next(), inner != "}" {} }
            case ".", "^", "$":
                endRun()
            default:
                if depth == 0 { run.append(character) }
            }
        }
        endRun()
        return runs
    }

    /// Names of `(?<name>...)` and `(?P<name>...)` groups.
    private static func captureNames(in pattern: String) -> [String] {
        pattern.matches(of: /\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/).map { String($0.output.1) }
    }
}

struct GatewayConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
