import TTRPC

/// A blocking client for `containerd.task.v2.Task` (harness, CLIs, tests) with a deadline for every call:
/// `try task.call(TaskService.state, request)`. Throws `TTRPCStatus` for error statuses, `TTRPCStatus.closed`
/// when the shim went away.
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

    /// Calls a Task method; `timeout` overrides the client's deadline for this call.
    @discardableResult
    public func call<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ request: Request, timeout: Duration? = nil
    ) throws -> Response {
        try connection.call(method, request, timeout: timeout ?? self.timeout)
    }

    public func close() { connection.close() }
}
