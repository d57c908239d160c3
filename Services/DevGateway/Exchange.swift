import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import SimforgeServer

/// One request relayed to a service: target choice and retries as Kong's ring-balancer
/// makes them, the request's parts forwarded as they come, the answer's parts back.
///
/// It and its connection hold each other until the connection lets it go (the request
/// served, or the client gone); a late callback then writes to a closed channel, harmlessly.
final class Exchange: UpstreamDelegate {
    private let connection: ProxyConnectionHandler
    private let plan: RequestPlanner.ProxyPlan
    private var tried: [UpstreamTarget] = []
    private var upstream: UpstreamConnection?
    private var target: UpstreamTarget?
    /// Body parts that came while no upstream connection was ready.
    private var pending: [ByteBuffer] = []
    private var clientDone = false
    private var endSent = false
    /// Request parts still go to the service (not after its early answer or a failure).
    private var forwarding = true
    private var headRelayed = false
    private var responseDone = false
    private var upstreamKeepAlive = true
    private var finished = false
    private var readTimer: Scheduled<Void>?
    /// When the service last sent bytes (or the request was whole at it).
    private var lastActivity = NIODeadline.now()

    init(connection: ProxyConnectionHandler, plan: RequestPlanner.ProxyPlan) {
        self.connection = connection
        self.plan = plan
    }

    func start() {
        // A body waits until the head has gone out.
        if !self.plan.resendable { self.connection.setReading(false) }
        self.attempt()
    }

    private func attempt() {
        guard let target = self.plan.balancer.next(excluding: self.tried) else {
            self.connection.logger.warning("no healthy target", metadata: ["gateway.service": "\(self.plan.balancer.service)"])
            self.fail(APIError(.serviceUnavailable, detail: "failure to get a peer from the ring-balancer"))
            return
        }
        self.tried.append(target)
        self.target = target
        if let pooled = self.connection.pool.take(target) {
            self.send(on: pooled)
            return
        }
        self.connection.pool.connect(target).assumeIsolatedUnsafeUnchecked().whenComplete { result in
            switch result {
            case .success(let upstream):
                guard !self.finished else {
                    upstream.close()
                    return
                }
                self.send(on: upstream)
            case .failure(let error):
                guard !self.finished else { return }
                self.connectFailed(target, error)
            }
        }
    }

    private func send(on upstream: UpstreamConnection) {
        self.upstream = upstream
        upstream.delegate = self
        upstream.setReading(true)
        var head = self.plan.head
        let host = upstream.target.host.contains(":") ? "[\(upstream.target.host)]" : upstream.target.host
        head.authority = "\(host):\(upstream.target.port)"
        if !upstream.target.basePath.isEmpty { head.path = upstream.target.basePath + (head.path ?? "/") }
        upstream.write(.head(head), flush: false)
        for buffer in self.pending { upstream.write(.body(buffer), flush: false) }
        self.pending.removeAll()
        if self.clientDone {
            self.sendEnd(on: upstream)
        } else {
            upstream.flush()
            if !self.plan.resendable { self.connection.setReading(upstream.isWritable) }
        }
    }

    /// The request is whole at the service: from now on its silence counts (Kong's
    /// `read_timeout`, as nginx's `proxy_read_timeout`, starts once the request is sent).
    private func sendEnd(on upstream: UpstreamConnection) {
        upstream.write(.end(nil), flush: true)
        self.endSent = true
        self.armReadTimer()
    }

    // MARK: The client's request

    func clientBody(_ buffer: ByteBuffer) {
        guard self.forwarding else { return }
        guard let upstream = self.upstream else {
            self.pending.append(buffer)
            return
        }
        upstream.write(.body(buffer), flush: true)
        if !upstream.isWritable { self.connection.setReading(false) }
    }

    func clientEnded() {
        self.clientDone = true
        guard self.forwarding, let upstream = self.upstream else {
            if self.responseDone { self.finish() }
            return
        }
        self.sendEnd(on: upstream)
        if self.responseDone { self.finish() }
    }

    func clientWritabilityChanged(isWritable: Bool) {
        self.upstream?.setReading(isWritable)
    }

    /// The client is gone: so is the exchange.
    func abandon() {
        self.finished = true
        self.cancelReadTimer()
        self.upstream?.close()
        self.upstream = nil
    }

    // MARK: The service's answer

    func upstreamRead(_ part: HTTPResponsePart) {
        self.lastActivity = .now()  // the service is answering: its silence counts from now
        switch part {
        case .head(let response):
            guard response.status.kind != .informational else { return }
            if let target = self.target { self.record(.status(response.status.code), for: target) }
            self.upstreamKeepAlive = !(response.headerFields[.connection]?.lowercased().contains("close") ?? false)
            var head = response
            head.headerFields = HTTPFields(response.headerFields.lazy.filter { !RequestPlanner.hopByHopHeaders.contains($0.name.canonicalName) })
            for (name, value) in self.plan.answerHeaders { head.headerFields.append(HTTPField(name: name, value: value)) }
            head.headerFields[RequestPlanner.requestIDHeader] = self.plan.requestID
            self.headRelayed = true
            self.connection.writeHead(head)
        case .body(let buffer):
            self.connection.writeBody(buffer)
            if !self.connection.isWritable { self.upstream?.setReading(false) }
        case .end:
            self.responseDone = true
            self.cancelReadTimer()
            if !self.clientDone {
                // An early answer (413, 409, ...): the rest of the body is not for the service.
                self.forwarding = false
                self.releaseUpstream(reusable: false)
                self.connection.setReading(true)
            } else {
                self.finish()
            }
            self.connection.writeEnd()
        }
    }

    func upstreamReadComplete() {
        self.connection.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if self.forwarding && !self.clientDone { self.connection.setReading(isWritable) }
    }

    func upstreamClosed(error: (any Error)?) {
        self.upstream = nil
        guard !self.responseDone, !self.finished else { return }
        self.cancelReadTimer()
        if self.headRelayed {
            self.finished = true
            self.connection.cutAnswer()
            return
        }
        if let target = self.target { self.record(.tcpFailure, for: target) }
        self.connection.logger.warning("upstream failed", metadata: [
            "gateway.service": "\(self.plan.balancer.service)", "gateway.target": "\(self.target?.url ?? "")",
            "error": "\(error.map { "\($0)" } ?? "connection closed before the answer")",
        ])
        if self.plan.resendable, self.tried.count <= self.plan.balancer.retries, self.plan.balancer.hasHealthyTarget(excluding: self.tried) {
            self.endSent = false
            self.attempt()
            return
        }
        self.fail(APIError(.badGateway, detail: "An invalid response was received from the upstream server"))
    }

    private func connectFailed(_ target: UpstreamTarget, _ error: any Error) {
        let outcome: TargetOutcome = if case ChannelError.connectTimeout = error { .timeout } else { .tcpFailure }
        self.record(outcome, for: target)
        self.connection.logger.warning("upstream failed", metadata: [
            "gateway.service": "\(self.plan.balancer.service)", "gateway.target": "\(target.url)", "error": "\(error)",
        ])
        // Nothing reached the service: any request may go to another target (as Kong does).
        if self.tried.count <= self.plan.balancer.retries, self.plan.balancer.hasHealthyTarget(excluding: self.tried) {
            self.attempt()
            return
        }
        self.fail(outcome == .timeout
            ? APIError(.gatewayTimeout, detail: "The upstream server is timing out")
            : APIError(.badGateway, detail: "An invalid response was received from the upstream server"))
    }

    /// The gateway answers instead of the service; the rest of the body is dropped.
    private func fail(_ error: APIError) {
        self.finished = true
        self.forwarding = false
        self.responseDone = true
        self.pending.removeAll()
        self.releaseUpstream(reusable: false)
        var answer = GatewayAnswer(error, requestID: self.plan.requestID)
        for (name, value) in self.plan.answerHeaders { answer.headers.append(HTTPField(name: name, value: value)) }
        self.connection.answer(answer)
    }

    /// Both the request and the answer have passed whole.
    private func finish() {
        self.finished = true
        self.releaseUpstream(reusable: self.upstreamKeepAlive && self.endSent)
    }

    private func releaseUpstream(reusable: Bool) {
        guard let upstream = self.upstream else { return }
        self.upstream = nil
        if reusable {
            self.connection.pool.giveBack(upstream)
        } else {
            upstream.close()
        }
    }

    private func record(_ outcome: TargetOutcome, for target: UpstreamTarget) {
        if let healthy = target.record(outcome, by: self.plan.balancer.policy.passive) {
            self.connection.logger.notice("target \(healthy ? "healthy" : "unhealthy") by passive check", metadata: [
                "gateway.service": "\(self.plan.balancer.service)", "gateway.target": "\(target.url)", "gateway.outcome": "\(outcome)",
            ])
        }
    }

    // MARK: The service's silence

    private func armReadTimer() {
        self.readTimer?.cancel()
        self.lastActivity = .now()
        self.schedule(in: self.connection.readTimeout)
    }

    private func schedule(in delay: TimeAmount) {
        self.readTimer = self.connection.pool.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) {
            self.readTimer = nil
            let silence = NIODeadline.now() - self.lastActivity
            if silence < self.connection.readTimeout {
                self.schedule(in: self.connection.readTimeout - silence)
            } else {
                self.readTimedOut()
            }
        }
    }

    private func cancelReadTimer() {
        self.readTimer?.cancel()
        self.readTimer = nil
    }

    private func readTimedOut() {
        guard !self.finished, !self.responseDone else { return }
        if let target = self.target { self.record(.timeout, for: target) }
        if self.headRelayed {
            self.finished = true
            self.releaseUpstream(reusable: false)
            self.connection.cutAnswer()
        } else {
            self.fail(APIError(.gatewayTimeout, detail: "The upstream server is timing out"))
        }
    }
}
