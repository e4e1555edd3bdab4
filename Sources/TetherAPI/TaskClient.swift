import TTRPC

/// A typed blocking client for `containerd.task.v2.Task` (harness, CLIs, tests). Every method throws
/// `TTRPCStatus` for error statuses, `TTRPCStatus.closed` when the shim went away.
public struct TaskClient: Sendable {
    public let connection: TTRPCClient
    /// Deadline for each call; nil waits for ever (containerd sets none on most Task calls).
    public var timeout: Duration?

    public init(_ connection: TTRPCClient, timeout: Duration? = nil) {
        self.connection = connection
        self.timeout = timeout
    }

    public init(path: String, timeout: Duration? = nil) throws {
        self.init(try TTRPCClient(path: path), timeout: timeout)
    }

    private func call<Request: Message, Response: Message>(
        _ method: TaskService.Method, _ request: Request, timeout: Duration? = nil
    ) throws -> Response {
        try connection.call(TaskService.name, method.rawValue, request, timeout: timeout ?? self.timeout)
    }

    public func state(_ request: Containerd_Task_V2_StateRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_StateResponse {
        try call(.state, request, timeout: timeout)
    }
    public func create(_ request: Containerd_Task_V2_CreateTaskRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_CreateTaskResponse {
        try call(.create, request, timeout: timeout)
    }
    public func start(_ request: Containerd_Task_V2_StartRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_StartResponse {
        try call(.start, request, timeout: timeout)
    }
    public func delete(_ request: Containerd_Task_V2_DeleteRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_DeleteResponse {
        try call(.delete, request, timeout: timeout)
    }
    public func pids(_ request: Containerd_Task_V2_PidsRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_PidsResponse {
        try call(.pids, request, timeout: timeout)
    }
    public func pause(_ request: Containerd_Task_V2_PauseRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.pause, request, timeout: timeout)
    }
    public func resume(_ request: Containerd_Task_V2_ResumeRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.resume, request, timeout: timeout)
    }
    public func checkpoint(_ request: Containerd_Task_V2_CheckpointTaskRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.checkpoint, request, timeout: timeout)
    }
    public func kill(_ request: Containerd_Task_V2_KillRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.kill, request, timeout: timeout)
    }
    public func exec(_ request: Containerd_Task_V2_ExecProcessRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.exec, request, timeout: timeout)
    }
    public func resizePty(_ request: Containerd_Task_V2_ResizePtyRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.resizePty, request, timeout: timeout)
    }
    public func closeIO(_ request: Containerd_Task_V2_CloseIORequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.closeIO, request, timeout: timeout)
    }
    public func update(_ request: Containerd_Task_V2_UpdateTaskRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.update, request, timeout: timeout)
    }
    public func wait(_ request: Containerd_Task_V2_WaitRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_WaitResponse {
        try call(.wait, request, timeout: timeout)
    }
    public func stats(_ request: Containerd_Task_V2_StatsRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_StatsResponse {
        try call(.stats, request, timeout: timeout)
    }
    public func connect(_ request: Containerd_Task_V2_ConnectRequest, timeout: Duration? = nil) throws -> Containerd_Task_V2_ConnectResponse {
        try call(.connect, request, timeout: timeout)
    }
    public func shutdown(_ request: Containerd_Task_V2_ShutdownRequest, timeout: Duration? = nil) throws {
        let _: Google_Protobuf_Empty = try call(.shutdown, request, timeout: timeout)
    }

    public func close() { connection.close() }
}
