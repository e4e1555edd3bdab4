import TTRPC

extension TTRPCLoopClient {
    /// Publishes `event` to containerd the way a 1.6 shim does: `Events.Forward` on `$TTRPC_ADDRESS`, with the
    /// `containerd-namespace-ttrpc` header, a non-zero timestamp and a 5 s deadline by default.
    public func forward(
        namespace: String, event: some ContainerdEvent, timestamp: Google_Protobuf_Timestamp = .now(),
        timeout: Duration = .seconds(5), completion: @escaping (Result<Void, Error>) -> Void
    ) {
        let envelope: EventEnvelope
        do {
            envelope = try EventEnvelope(namespace: namespace, event: event, timestamp: timestamp)
        } catch {
            completion(.failure(TTRPCStatus(.internal, "ttrpc: error marshalling event: \(error)")))
            return
        }
        forward(envelope, timeout: timeout, completion: completion)
    }

    /// Forwards an already-built envelope (e.g. one replayed from a queue) under its own namespace.
    public func forward(
        _ envelope: EventEnvelope, timeout: Duration = .seconds(5), completion: @escaping (Result<Void, Error>) -> Void
    ) {
        call(EventsService.forward, ForwardRequest(envelope: envelope), timeout: timeout,
             metadata: [TTRPCMetadataKey.containerdNamespace: [envelope.namespace]]) { result in
            completion(result.map { _ in () })
        }
    }
}
