/// A page of a Django-REST-Framework style paginated list (API.md "Conventions").
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    /// Number of items across all pages.
    public var count: Int
    /// Absolute URL of the next page, or `nil` on the last page.
    public var next: String?
    /// Absolute URL of the previous page, or `nil` on the first page.
    public var previous: String?
    /// The items of this page.
    public var results: [Item]

    /// Creates a page.
    public init(count: Int, next: String?, previous: String?, results: [Item]) {
        self.count = count
        self.next = next
        self.previous = previous
        self.results = results
    }

    private enum CodingKeys: String, CodingKey {
        case count, next, previous, results
    }

    /// Encodes `next` and `previous` as explicit `null`s, as DRF does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.count, forKey: .count)
        try container.encode(self.next, forKey: .next)
        try container.encode(self.previous, forKey: .previous)
        try container.encode(self.results, forKey: .results)
    }
}
