import Foundation
import Hummingbird
import SimforgeModels

/// `page` and `page_size` of a list request, DRF style: pages count from 1, `page_size`
/// defaults to 100 and a larger one is served as 1000 (DRF's `max_page_size` clamps the
/// same way); a `page_size` that is not a positive integer is 400; a page that is not a
/// positive number or lies past the last page is 404 `Invalid page.`, as in DRF.
public struct PageRequest: Sendable, Equatable {
    public static let defaultPageSize = 100
    public static let maxPageSize = 1000

    public let page: Int
    public let pageSize: Int

    /// Rows before this page; never overflows (``init(page:pageSize:)`` bounds `page`).
    public var offset: Int { (self.page - 1) * self.pageSize }
    public var limit: Int { self.pageSize }

    /// A page whose offset fits an `Int`; beyond that no list has rows, so it is 404.
    public init(page: Int, pageSize: Int) throws {
        guard page >= 1, pageSize >= 1, page - 1 <= Int.max / pageSize else { throw APIError.notFound("Invalid page.") }
        self.page = page
        self.pageSize = pageSize
    }

    /// Reads `page` and `page_size` from the query.
    public init(request: Request) throws {
        let query = request.uri.queryParameters
        var page = 1
        if let pageText = query["page"] {
            guard let value = Int(String(pageText)), value >= 1 else { throw APIError.notFound("Invalid page.") }
            page = value
        }
        var pageSize = Self.defaultPageSize
        if let sizeText = query["page_size"] {
            // Any positive integer, however many digits, is served as at most the maximum.
            let digits = sizeText.drop { $0 == "0" }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw APIError.validation(["page_size": .messages(["A valid positive integer is required."])])
            }
            pageSize = Int(String(digits)).map { min($0, Self.maxPageSize) } ?? Self.maxPageSize
        }
        try self.init(page: page, pageSize: pageSize)
    }

    /// The page of `results` (already limited to this page) out of `count`, with absolute
    /// `next`/`previous` links that keep the path and every other query parameter.
    public func page<Item>(count: Int, results: [Item], for request: Request, context: SimforgeRequestContext) throws -> Page<Item> {
        let lastPage = max(1, (count + self.pageSize - 1) / self.pageSize)
        guard self.page <= lastPage else { throw APIError.notFound("Invalid page.") }
        let base = PublicURL.absolute(request.uri.path, context: context)
        let query = request.uri.query ?? ""
        let next = self.page < lastPage ? Self.link(base: base, query: query, page: self.page + 1) : nil
        let previous = self.page > 1 ? Self.link(base: base, query: query, page: self.page - 1) : nil
        return Page(count: count, next: next, previous: previous, results: results)
    }

    /// `base?query` with `page` replaced; page 1 drops the parameter, as DRF does.
    static func link(base: String, query: String, page: Int) -> String {
        var items = query.split(separator: "&", omittingEmptySubsequences: true).filter { item in
            let name = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return name.removingPercentEncoding != "page"
        }.map(String.init)
        if page > 1 {
            items.append("page=\(page)")
        }
        return items.isEmpty ? base : base + "?" + items.joined(separator: "&")
    }
}

extension Substring {
    fileprivate var removingPercentEncoding: String? {
        String(self).removingPercentEncoding
    }
}
