import SwiftProtobuf
import TTRPC

/// `containerd.task.v2.Task`: the service a shim serves on its socket (containerd 1.6 runtime v2); its typed
/// method descriptors (`TaskService.create`, ...) are generated from `shim.proto`.
public typealias TaskService = Containerd_Task_V2_Task

/// `containerd.services.events.ttrpc.v1.Events`: served by containerd on `$TTRPC_ADDRESS`; shims call `forward`.
public typealias EventsService = Containerd_Services_Events_Ttrpc_V1_Events

/// `tether.daemon.v1.Daemon`: tetherd's client API on its socket (tetherctl, tests).
public typealias DaemonService = Tether_Daemon_V1_Daemon

// Short names for the generated types most code touches.
public typealias TaskStatus = Containerd_V1_Types_Status
public typealias TaskMount = Containerd_Types_Mount
public typealias TaskProcessInfo = Containerd_V1_Types_ProcessInfo
public typealias EventEnvelope = Containerd_Services_Events_Ttrpc_V1_Envelope
public typealias ForwardRequest = Containerd_Services_Events_Ttrpc_V1_ForwardRequest
public typealias RuncOptions = Containerd_Runc_V1_Options
public typealias RuncProcessDetails = Containerd_Runc_V1_ProcessDetails
