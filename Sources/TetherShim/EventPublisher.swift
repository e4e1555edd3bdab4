import Logging
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherSystem

/// Publishes task events to the manager's Events service (`$TTRPC_ADDRESS`, Events/Forward) in order:
/// one in flight at a time, retried with backoff when the manager is away, never blocking the loop.
/// The queue is bounded; past the bound the oldest events are dropped (and counted).
final class EventPublisher {
    private unowned let loop: EventLoop
    private let address: String
    private let namespace: String
    private var queue: [EventEnvelope] = []
    private var client: TTRPCLoopClient?
    private var inFlight = false
    private var retryDelay: UInt64 = 50
    /// The one pending retry (every publish while the manager is away would otherwise add a timer of its own).
    private var retryTimer: EventLoop.TimerID?
    private(set) var dropped = 0
    private static let limit = 4096

    init(loop: EventLoop, address: String, namespace: String) {
        self.loop = loop
        self.address = address
        self.namespace = namespace
    }

    var isIdle: Bool { queue.isEmpty && !inFlight }

    func publish(_ event: some ContainerdEvent) {
        publish(topic: type(of: event).topic.rawValue, event)
    }

    func publish(topic: String, _ event: some SwiftProtobuf.Message) {
        guard !address.isEmpty, let envelope = try? EventEnvelope(namespace: namespace, topic: topic, event: event) else { return }
        if queue.count >= EventPublisher.limit {
            queue.removeFirst()
            dropped += 1
        }
        queue.append(envelope)
        sendNext()
    }

    private func sendNext() {
        guard !inFlight, retryTimer == nil, let envelope = queue.first else { return }
        if client == nil || client?.isClosed == true {
            client = try? TTRPCLoopClient(loop: loop, path: TTRPCClient.socketPath(fromAddress: address))
        }
        guard let client else {
            retryLater()
            return
        }
        inFlight = true
        client.forward(envelope, timeout: .seconds(5)) { [weak self] result in
            guard let self else { return }
            self.inFlight = false
            switch result {
            case .success:
                self.queue.removeFirst()
                self.retryDelay = 50
                self.sendNext()
            case .failure(let error):
                if self.retryDelay == 50 {
                    shimLog.warning("cannot publish events to the manager: retrying",
                                    metadata: ["address": "\(self.address)", "error": "\(error)"])
                }
                self.client?.close()
                self.client = nil
                self.retryLater()
            }
        }
    }

    private func retryLater() {
        guard retryTimer == nil else { return }
        let delay = retryDelay
        retryDelay = min(retryDelay * 2, 5000)
        retryTimer = loop.schedule(after: delay) { [weak self] in
            self?.retryTimer = nil
            self?.sendNext()
        }
    }
}
