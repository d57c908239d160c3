import Foundation

/// Wakes long-polling requests when their owner's history grows. Each owner has a
/// version, bumped by every notification; a request reads the version before it queries,
/// and waits only if nothing newer has been announced since, so no event falls between
/// its query and its wait.
actor StatusBroker {
    private var versions: [String: UInt64] = [:]
    private var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]

    func version(of owner: String) -> UInt64 {
        self.versions[owner, default: 0]
    }

    func announce(owner: String) {
        self.versions[owner, default: 0] &+= 1
        for (_, waiter) in self.waiters.removeValue(forKey: owner) ?? [:] {
            waiter.resume()
        }
    }

    /// Returns once `owner`'s version moves past `seen`, or after `timeout`.
    func wait(owner: String, seen: UInt64, timeout: Duration) async {
        guard self.versions[owner, default: 0] == seen else { return }
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id, owner: owner)
        }
        await withCheckedContinuation { continuation in
            // Runs at once, on this actor: registered before anything can announce.
            self.waiters[owner, default: [:]][id] = continuation
        }
        timer.cancel()
    }

    private func expire(_ id: UUID, owner: String) {
        self.waiters[owner]?.removeValue(forKey: id)?.resume()
    }
}
