import SwiftProtobuf
import TTRPC

/// `containerd.task.v2.Task`: the service a shim serves on its socket (containerd 1.6 runtime v2).
public enum TaskService {
    public static let name = "containerd.task.v2.Task"

    /// The 17 RPCs, named as on the wire (`Request.method`).
    public enum Method: String, CaseIterable, Sendable {
        case state = "State"
        case create = "Create"
        case start = "Start"
        case delete = "Delete"
        case pids = "Pids"
        case pause = "Pause"
        case resume = "Resume"
        case checkpoint = "Checkpoint"
        case kill = "Kill"
        case exec = "Exec"
        case resizePty = "ResizePty"
        case closeIO = "CloseIO"
        case update = "Update"
        case wait = "Wait"
        case stats = "Stats"
        case connect = "Connect"
        case shutdown = "Shutdown"
    }
}

/// `containerd.services.events.ttrpc.v1.Events`: served by containerd on `$TTRPC_ADDRESS`; shims call Forward.
public enum EventsService {
    public static let name = "containerd.services.events.ttrpc.v1.Events"
    public static let forward = "Forward"
}

// Short names for the generated types most code touches.
public typealias TaskStatus = Containerd_V1_Types_Status
public typealias TaskMount = Containerd_Types_Mount
public typealias TaskProcessInfo = Containerd_V1_Types_ProcessInfo
public typealias EventEnvelope = Containerd_Services_Events_Ttrpc_V1_Envelope
public typealias ForwardRequest = Containerd_Services_Events_Ttrpc_V1_ForwardRequest
public typealias RuncOptions = Containerd_Runc_V1_Options
public typealias RuncProcessDetails = Containerd_Runc_V1_ProcessDetails
