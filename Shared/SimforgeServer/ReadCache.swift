import Metrics
import NIOCore
import NIOConcurrencyHelpers

/// A bounded in-memory cache of what a hot read route loads from the database, kept
/// coherent with the writes that go through the same process.
///
/// The owner of the cached data calls ``invalidate(_:)`` after each write that changes an
/// entry, before the write's caller gets an answer. A read that misses loads the value with
/// ``value(for:orLoad:)``, which stores it only if nothing was invalidated while it was
/// being loaded: a load that started before a write and returns after it never leaves its
/// stale value behind. Writes made by other processes reach it through the same calls (the
/// services make them on PostgreSQL notifications, and ``invalidateAll()`` when they may
/// have missed some).
///
/// When it holds more than `capacity` entries, the least recently used eighth goes. A
/// capacity of 0 turns it off: every read loads.
public final class ReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Counts reads, for least-recently-used eviction.
        var clock: UInt64 = 0
        /// Bumped by every invalidation: a load stores its value only if this did not move.
        var generation: UInt64 = 0
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let hits: Counter
    private let misses: Counter

    /// - Parameter name: the `cache` label of its `simforge_read_cache_{hits,misses}_total` metrics.
    public init(name: String, capacity: Int) {
        self.capacity = capacity
        self.hits = Counter(label: "simforge_read_cache_hits_total", dimensions: [("cache", name)])
        self.misses = Counter(label: "simforge_read_cache_misses_total", dimensions: [("cache", name)])
    }

    /// What a load found.
    public enum Loaded {
        /// A value kept for the next reads.
        case keep(Value)
        /// A value answered but not kept: it may still change in ways the cache is not told of.
        case once(Value)
    }

    public var count: Int {
        self.state.withLockedValue { $0.entries.count }
    }

    /// The cached value for `key`, else the one `load` reads (`nil`: there is none). `load`
    /// runs without the lock held.
    public func value(for key: Key, orLoad load: () async throws -> Loaded?) async rethrows -> Value? {
        guard self.capacity > 0 else {
            switch try await load() {
            case .keep(let value), .once(let value): return value
            case nil: return nil
            }
        }
        let (cached, generation) = self.state.withLockedValue { state -> (Value?, UInt64) in
            state.clock &+= 1
            guard var entry = state.entries[key] else { return (nil, state.generation) }
            entry.lastUse = state.clock
            state.entries[key] = entry
            return (entry.value, state.generation)
        }
        if let cached {
            self.hits.increment()
            return cached
        }
        self.misses.increment()
        let value: Value
        switch try await load() {
        case .keep(let loaded): value = loaded
        case .once(let loaded): return loaded
        case nil: return nil
        }
        self.state.withLockedValue { state in
            guard state.generation == generation else { return }
            state.entries[key] = Entry(value: value, lastUse: state.clock)
            if state.entries.count > self.capacity {
                Self.evictLeastRecentlyUsed(&state, keeping: self.capacity - self.capacity / 8)
            }
        }
        return value
    }

    /// Forgets `key`'s value, and fails every load under way.
    public func invalidate(_ key: Key) {
        self.state.withLockedValue { state in
            state.generation &+= 1
            state.entries[key] = nil
        }
    }

    /// Forgets every value, and fails every load under way.
    public func invalidateAll() {
        self.state.withLockedValue { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }

    private static func evictLeastRecentlyUsed(_ state: inout State, keeping count: Int) {
        let byUse = state.entries.sorted { $0.value.lastUse > $1.value.lastUse }
        state.entries = Dictionary(uniqueKeysWithValues: byUse.prefix(count).map { ($0.key, $0.value) })
    }
}

/// `READ_CACHE_ENTRIES`: the size of a service's ``ReadCache`` (0 turns it off).
public enum ReadCacheSettings {
    public static let defaultEntries = 10_000

    public static func entries(_ environment: EnvironmentReader) throws -> Int {
        try environment.int("READ_CACHE_ENTRIES", default: Self.defaultEntries, range: 0...10_000_000)
    }
}

/// The last answer rendered from a cached value, and what it was rendered for (a cached
/// value stays as it is until it is replaced, so the same request gets the same bytes).
/// Polls repeat the same request through the same address: they answer without rendering.
public final class LastAnswer: Sendable {
    private let last = NIOLockedValueBox<(request: String, body: ByteBuffer)?>(nil)

    public init() {}

    /// The last answer when it was rendered for `request`, else what `render` makes (kept
    /// for the next call; nothing is kept when it throws).
    public func body(for request: String, render: () throws -> ByteBuffer) rethrows -> ByteBuffer {
        if let last = self.last.withLockedValue({ $0 }), last.request == request {
            return last.body
        }
        let body = try render()
        self.last.withLockedValue { $0 = (request, body) }
        return body
    }
}
