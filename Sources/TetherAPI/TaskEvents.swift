#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf
import TTRPC

/// The topics containerd's runtime publishes task events under (`runtime/events.go`).
public enum TaskEventTopic: String, CaseIterable, Sendable {
    case create = "/tasks/create"
    case start = "/tasks/start"
    case oom = "/tasks/oom"
    case exit = "/tasks/exit"
    case delete = "/tasks/delete"
    case execAdded = "/tasks/exec-added"
    case execStarted = "/tasks/exec-started"
    case paused = "/tasks/paused"
    case resumed = "/tasks/resumed"
    case checkpointed = "/tasks/checkpointed"
}

/// A task event message and the topic it is published under.
public protocol ContainerdEvent: SwiftProtobuf.Message {
    static var topic: TaskEventTopic { get }
}

extension Containerd_Events_TaskCreate: ContainerdEvent { public static var topic: TaskEventTopic { .create } }
extension Containerd_Events_TaskStart: ContainerdEvent { public static var topic: TaskEventTopic { .start } }
extension Containerd_Events_TaskOOM: ContainerdEvent { public static var topic: TaskEventTopic { .oom } }
extension Containerd_Events_TaskExit: ContainerdEvent { public static var topic: TaskEventTopic { .exit } }
extension Containerd_Events_TaskDelete: ContainerdEvent { public static var topic: TaskEventTopic { .delete } }
extension Containerd_Events_TaskExecAdded: ContainerdEvent { public static var topic: TaskEventTopic { .execAdded } }
extension Containerd_Events_TaskExecStarted: ContainerdEvent { public static var topic: TaskEventTopic { .execStarted } }
extension Containerd_Events_TaskPaused: ContainerdEvent { public static var topic: TaskEventTopic { .paused } }
extension Containerd_Events_TaskResumed: ContainerdEvent { public static var topic: TaskEventTopic { .resumed } }
extension Containerd_Events_TaskCheckpointed: ContainerdEvent { public static var topic: TaskEventTopic { .checkpointed } }

extension Google_Protobuf_Any {
    /// Packs `message` the way containerd's typeurl v1 does: `type_url` is the bare proto full name
    /// (`containerd.events.TaskExit`), with no `type.googleapis.com/` prefix.
    public init(containerd message: some SwiftProtobuf.Message) throws {
        self.init()
        typeURL = type(of: message).protoMessageName
        value = try message.serializedData()
    }

    /// True when this Any holds a `M`, whether its type URL is bare (containerd) or prefixed (`…/name`).
    public func holds<M: SwiftProtobuf.Message>(_ type: M.Type) -> Bool {
        let name = M.protoMessageName
        return typeURL == name || typeURL.hasSuffix("/" + name)
    }

    /// Unpacks a `M` packed by `init(containerd:)` or by any protobuf runtime; throws a status if it holds another type.
    public func unpack<M: SwiftProtobuf.Message>(_ type: M.Type) throws -> M {
        guard holds(type) else {
            throw TTRPCStatus(.invalidArgument, "any holds \(typeURL), not \(M.protoMessageName)")
        }
        return try M(serializedBytes: Array(value))
    }
}

extension Google_Protobuf_Timestamp {
    /// The current wall-clock time.
    public static func now() -> Google_Protobuf_Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var stamp = Google_Protobuf_Timestamp()
        stamp.seconds = Int64(now.tv_sec)
        stamp.nanos = Int32(now.tv_nsec)
        return stamp
    }
}

extension Containerd_Services_Events_Ttrpc_V1_Envelope {
    /// An envelope for `event` as a shim forwards it: topic from the event type, non-zero timestamp
    /// (containerd rejects a zero one), the namespace from the shim's `-namespace` flag.
    public init(namespace: String, event: some ContainerdEvent, timestamp: Google_Protobuf_Timestamp = .now()) throws {
        try self.init(namespace: namespace, topic: type(of: event).topic.rawValue, event: event, timestamp: timestamp)
    }

    /// An event under a topic of tether's own (`Tether_Daemon_V1_Event.logDroppedTopic`).
    public init(namespace: String, topic: String, event: some SwiftProtobuf.Message,
                timestamp: Google_Protobuf_Timestamp = .now()) throws {
        self.init()
        self.timestamp = timestamp
        self.namespace = namespace
        self.topic = topic
        self.event = try Google_Protobuf_Any(containerd: event)
    }
}

extension Tether_Daemon_V1_Event {
    /// The topic a shim publishes a `log-dropped` event under (type "log-dropped", the container's id, and
    /// `logDroppedBytes`: what its init wrote that its `file://` log did not take so far).
    public static let logDroppedTopic = "/tasks/log-dropped"
    public static let logDroppedType = "log-dropped"
}

extension Containerd_Services_Events_Ttrpc_V1_ForwardRequest {
    public init(envelope: Containerd_Services_Events_Ttrpc_V1_Envelope) {
        self.init()
        self.envelope = envelope
    }
}
