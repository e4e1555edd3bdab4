#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherFlags
import TetherSystem

/// Acts as the manager's Events service: prints every forwarded event as a JSON line.
struct Events: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "events", "Serve containerd's Events/Forward on a socket and print each event as a JSON line.", target: false,
        flags: [Flag("--listen", value: "PATH", help: "The socket path to listen on (pass it to `spawn --events`); required."),
                Flag("--count", value: "N", help: "Exit after this many events.")])
    let listen: String
    let count: Int?

    init(_ arguments: ParsedFlags) throws(FlagError) {
        listen = try arguments.required("--listen")
        count = try arguments.number("--count")
    }

    func run() throws {
        let loop = try EventLoop()
        let listener = try UnixSocket.listen(path: listen, mode: 0o600)
        defer { unlink(listen) }
        let server = TTRPCServer(loop: loop, listener: listener)
        var received = 0
        server.register(EventsService.forward) { request, _, reply in
            reply.succeed(Google_Protobuf_Empty())
            Events.printEnvelope(request.envelope)
            received += 1
            if let count, received >= count { loop.stop() }
        }
        try loop.run()
        server.shutdown()
    }

    static func printEnvelope(_ envelope: EventEnvelope) {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        let event: String
        if let message = decode(envelope.event), let json = try? message.jsonString(options: options) {
            event = json
        } else {
            event = "{\"type_url\":\"\(envelope.event.typeURL)\"}"
        }
        let line = ("{\"topic\":\"\(envelope.topic)\",\"namespace\":\"\(envelope.namespace)\",\"timestamp\":\(envelope.timestamp.seconds).\(nineDigits(envelope.timestamp.nanos)),\"event\":\(event)}\n")
        try? FileIO.writeAll(1, line)
    }

    static func decode(_ any: Google_Protobuf_Any) -> (any SwiftProtobuf.Message)? {
        let types: [any ContainerdEvent.Type] = [
            Containerd_Events_TaskCreate.self, Containerd_Events_TaskStart.self, Containerd_Events_TaskExit.self,
            Containerd_Events_TaskDelete.self, Containerd_Events_TaskOOM.self, Containerd_Events_TaskExecAdded.self,
            Containerd_Events_TaskExecStarted.self, Containerd_Events_TaskPaused.self, Containerd_Events_TaskResumed.self,
            Containerd_Events_TaskCheckpointed.self,
        ]
        for type in types where any.typeURL == type.protoMessageName || any.typeURL.hasSuffix("/" + type.protoMessageName) {
            return try? type.init(serializedBytes: Array(any.value))
        }
        return nil
    }
}

/// Nanoseconds as nine digits.
func nineDigits(_ value: Int32) -> String {
    let digits = "\(value)"
    return String(repeating: "0", count: max(0, 9 - digits.count)) + digits
}
