/// Wakes a loop that otherwise waits a while (the dispatcher when runs are submitted, the
/// outbox relay when rows are written), so it need not poll often.
actor Doorbell {
    private var rung = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var nextId = 0

    func ring() {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume()
        } else {
            self.rung = true
        }
    }

    /// Returns when rung (at once if it was rung since the last wait), or after `timeout`.
    func wait(upTo timeout: Duration) async {
        if self.rung {
            self.rung = false
            return
        }
        self.nextId += 1
        let id = self.nextId
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        await withCheckedContinuation { self.waiter = (id, $0) }
        timer.cancel()
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }
}
