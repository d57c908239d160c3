import Foundation
import Hummingbird
import SimforgeModels

/// `page` and `page_size` of a list request, DRF style: pages count from 1, `page_size`
/// defaults to 100 and is capped at 1000; a page that is not a positive number or lies
/// past the last page is 404 `Invalid page.`.
public struct PageRequest: Sendable, Equatable {
    public static let defaultPageSize = 100
    public static let maxPageSize = 1000

    public let page: Int
    public let pageSize: Int

    public var offset: Int { (self.page - 1) * self.pageSize }
    public var limit: Int { self.pageSize }

    public init(page: Int, pageSize: Int) {
        self.page = page
        self.pageSize = pageSize
    }

    /// Reads `page` and `page_size` from the query.
    public init(request: Request) throws {
        let query = request.uri.queryParameters
        if let pageText = query["page"].map(String.init) {
            guard let page = Int(pageText), page >= 1 else { throw APIError.notFound("Invalid page.") }
            self.page = page
        } else {
            self.page = 1
        }
        if let sizeText = query["page_size"].map(String.init), let size = Int(sizeText), size >= 1 {
            self.pageSize = min(size, Self.maxPageSize)
        } else {
            self.pageSize = Self.defaultPageSize
        }
    }

    /// The page of `results` (already limited to this page) out of `count`, with absolute
    /// `next`/`previous` links that keep the path and every other query parameter.
    public func page<Item>(count: Int, results: [Item], for request: Request) throws -> Page<Item> {
        let lastPage = max(1, (count + self.pageSize - 1) / self.pageSize)
        guard self.page <= lastPage else { throw APIError.notFound("Invalid page.") }
        let base = PublicURL.absolute(request.uri.path, for: request)
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
