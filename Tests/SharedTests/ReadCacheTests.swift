import SimforgeServer
import Synchronization
import Testing

/// ``ReadCache``: loads once, forgets what is invalidated, never keeps a value loaded
/// across an invalidation, and stays within its capacity.
@Suite struct ReadCacheTests {
    /// Counts the loads it serves, each answering `"<key>#<load number>"`.
    final class Loader: Sendable {
        private let loads = Mutex(0)

        var count: Int { self.loads.withLock { $0 } }

        func load(_ key: String) -> String {
            let number = self.loads.withLock { count in
                count += 1
                return count
            }
            return "\(key)#\(number)"
        }
    }

    @Test func aValueIsLoadedOnceUntilItIsInvalidated() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 10)
        let loader = Loader()
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#1")
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#1")
        #expect(loader.count == 1)
        cache.invalidate("a")
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#2")
        cache.invalidateAll()
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#3")
    }

    @Test func nothingIsKeptOfALoadThatFindsNothing() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 10)
        let loader = Loader()
        #expect(await cache.value(for: "gone") { _ = loader.load("gone"); return nil } == nil)
        #expect(await cache.value(for: "gone") { _ = loader.load("gone"); return nil } == nil)
        #expect(loader.count == 2)
        #expect(cache.count == 0)
    }

    @Test func aLoadOverlappingAnInvalidationIsNotKept() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 10)
        let loader = Loader()
        // A write lands (and invalidates) while the load reads the old value.
        let stale = await cache.value(for: "a") {
            let value = loader.load("a")
            cache.invalidate("b")
            return .keep(value)
        }
        #expect(stale == "a#1")
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#2")
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#2")
    }

    @Test func theLeastRecentlyUsedGoFirstAndTheCapacityHolds() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 8)
        let loader = Loader()
        for index in 0..<8 {
            _ = await cache.value(for: "k\(index)") { .keep(loader.load("k\(index)")) }
        }
        _ = await cache.value(for: "k0") { .keep(loader.load("k0")) }  // k0 is now the most recent
        #expect(loader.count == 8)
        _ = await cache.value(for: "k8") { .keep(loader.load("k8")) }  // over capacity: k1 goes
        #expect(cache.count == 7)
        #expect(await cache.value(for: "k0") { .keep(loader.load("k0")) } == "k0#1")
        #expect(await cache.value(for: "k1") { .keep(loader.load("k1")) } == "k1#10")
        for index in 0..<100 {
            _ = await cache.value(for: "x\(index)") { .keep(loader.load("x\(index)")) }
            #expect(cache.count <= 8)
        }
    }

    @Test func aValueLoadedForOnceIsNotKept() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 10)
        let loader = Loader()
        #expect(await cache.value(for: "draft") { .once(loader.load("draft")) } == "draft#1")
        #expect(await cache.value(for: "draft") { .keep(loader.load("draft")) } == "draft#2")
        #expect(await cache.value(for: "draft") { .keep(loader.load("draft")) } == "draft#2")
    }

    @Test func aCapacityOfZeroLoadsEveryTime() async {
        let cache = ReadCache<String, String>(name: "test", capacity: 0)
        let loader = Loader()
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#1")
        #expect(await cache.value(for: "a") { .keep(loader.load("a")) } == "a#2")
        #expect(cache.count == 0)
    }
}
