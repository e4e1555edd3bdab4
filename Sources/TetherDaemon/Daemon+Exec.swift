#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TTRPC
import TetherAPI
import TetherSystem

/// `tetherctl exec` and terminal sizes: Exec prepares the process in the container's shim with FIFOs under
/// `<bundle>/execs/<exec id>/` (root only) that tetherctl opens itself, StartExec starts it once they are open,
/// WaitExec answers with its exit code. Resize sets the pty size of the init or of an exec.
extension Daemon {
    static let processSpecType = "types.containerd.io/opencontainers/runtime-spec/1/Process"
    /// How long an exec's exit code stays after it exited, for a WaitExec that comes late.
    static let execExitRetention: UInt64 = 60_000

    func registerExecAPI() {
        server.register(DaemonService.exec) { [unowned self] request, _, reply in
            self.prepareExec(request) { result in reply.complete { try result.get() } }
        }
        server.register(DaemonService.startExec) { [unowned self] request, _, reply in
            do {
                self.startExec(try self.execSession(request)) { result in reply.complete { try result.get(); return Google_Protobuf_Empty() } }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.waitExec) { [unowned self] request, _, reply in
            do {
                let session = try self.execSession(request)
                if let code = session.exitCode {
                    reply.succeed(.with { $0.exitCode = code })
                } else {
                    session.waiters.append(reply)
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.resize) { [unowned self] request, _, reply in
            do {
                let record = try self.resolve(request.id)
                guard record.status == .running else { throw TTRPCStatus(.failedPrecondition, "container \(record.name) is not running") }
                self.callShim(record, TaskService.resizePty, Containerd_Task_V2_ResizePtyRequest.with {
                    $0.id = record.id
                    $0.execID = request.execID
                    $0.width = request.width
                    $0.height = request.height
                }) { (result: Result<Google_Protobuf_Empty, TTRPCStatus>) in reply.complete { try result.get() } }
            } catch {
                reply.fail(error)
            }
        }
    }

    func execSession(_ request: Tether_Daemon_V1_ExecProcessRequest) throws -> ExecSession {
        let record = try resolve(request.id)
        guard let session = execSessions[request.execID], session.containerID == record.id else {
            throw TTRPCStatus(.notFound, "no such exec: \(request.execID)")
        }
        return session
    }

    /// Makes the FIFOs and adds the process to the container's shim; `detach` starts it too (output discarded).
    func prepareExec(_ request: Tether_Daemon_V1_ExecRequest, completion: @escaping (Result<Tether_Daemon_V1_ExecResponse, Error>) -> Void) {
        do {
            try prepareExec(request, record: try resolve(request.id), completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    private func prepareExec(_ request: Tether_Daemon_V1_ExecRequest, record: ContainerRecord,
                             completion: @escaping (Result<Tether_Daemon_V1_ExecResponse, Error>) -> Void) throws {
        guard record.status == .running else { throw TTRPCStatus(.failedPrecondition, "container \(record.name) is not running") }
        guard !request.args.isEmpty else { throw TTRPCStatus(.invalidArgument, "a command is required") }
        let process = try BundleWriter.process(
            for: record, args: request.args, env: record.env + request.env, cwd: request.cwd,
            user: request.user.isEmpty ? record.settings.user : request.user, terminal: request.tty,
            consoleSize: Daemon.consoleSize(request.hasConsoleSize ? request.consoleSize : nil))
        let execID = "exec-" + String(Daemon.randomID().prefix(12))
        let directory = record.bundle + "/execs/" + execID
        var response = Tether_Daemon_V1_ExecResponse.with { $0.execID = execID }
        let execRequest: Containerd_Task_V2_ExecProcessRequest
        do {
            try FileIO.makeDirectories(directory, mode: 0o700)
            if request.openStdin { response.stdinPath = directory + "/stdin" }
            if !request.detach {
                response.stdoutPath = directory + "/stdout"
                if !request.tty { response.stderrPath = directory + "/stderr" }
            }
            for path in [response.stdinPath, response.stdoutPath, response.stderrPath] where !path.isEmpty {
                try BundleWriter.makeFIFO(path)
            }
            let spec = try JSONEncoder().encode(process)
            let fifos = response
            execRequest = .with {
                $0.id = record.id
                $0.execID = execID
                $0.terminal = request.tty
                $0.stdin = fifos.stdinPath
                $0.stdout = fifos.stdoutPath
                $0.stderr = fifos.stderrPath
                $0.spec = Google_Protobuf_Any.with {
                    $0.typeURL = Daemon.processSpecType
                    $0.value = spec
                }
            }
        } catch {
            try? FileIO.removeTree(directory)
            throw error
        }
        callShim(record, TaskService.exec, execRequest) { [weak self] (result: Result<Google_Protobuf_Empty, TTRPCStatus>) in
            guard let self else { return }
            if case .failure(let error) = result {
                try? FileIO.removeTree(directory)
                return completion(.failure(error))
            }
            let session = ExecSession(id: execID, containerID: record.id, directory: directory)
            self.execSessions[execID] = session
            self.events.publish("exec_create", record, execID: execID)
            guard request.detach else { return completion(.success(response)) }
            self.startExec(session) { started in completion(started.map { response }) }
        }
    }

    func startExec(_ session: ExecSession, completion: @escaping (Result<Void, Error>) -> Void) {
        guard let record = records[session.containerID] else {
            return completion(.failure(TTRPCStatus(.notFound, "no such container: \(session.containerID)")))
        }
        callShim(record, TaskService.start, Containerd_Task_V2_StartRequest.with {
            $0.id = record.id
            $0.execID = session.id
        }) { [weak self] (result: Result<Containerd_Task_V2_StartResponse, TTRPCStatus>) in
            guard let self else { return }
            if case .failure(let error) = result {
                self.finishExec(session, code: 255)
                return completion(.failure(error))
            }
            self.events.publish("exec_start", record, execID: session.id)
            self.watchExec(session)
            completion(.success(()))
        }
    }

    /// Holds a Task.Wait for the exec on the loop; its reply (or the shim's loss) finishes the exec.
    func watchExec(_ session: ExecSession) {
        guard let record = records[session.containerID],
              let client = try? TTRPCLoopClient(loop: loop, path: TTRPCClient.socketPath(fromAddress: record.shimAddress), readBuffer: shimReads) else {
            finishExec(session, code: 255)
            return
        }
        session.shimWait = client
        client.call(TaskService.wait, .with {
            $0.id = session.containerID
            $0.execID = session.id
        }) { [weak self] result in
            let code = (try? result.get()).map { Int32(bitPattern: $0.exitStatus) } ?? 255
            self?.finishExec(session, code: code)
        }
    }

    /// Answers the waiters, deletes the exec in the shim and its FIFOs; the code stays a minute.
    func finishExec(_ session: ExecSession, code: Int32) {
        guard session.exitCode == nil else { return }
        session.exitCode = code
        session.shimWait?.close()
        session.shimWait = nil
        for waiter in session.waiters { waiter.succeed(.with { $0.exitCode = code }) }
        session.waiters.removeAll()
        if let record = records[session.containerID] {
            callShim(record, TaskService.delete, Containerd_Task_V2_DeleteRequest.with {
                $0.id = record.id
                $0.execID = session.id
            }) { (_: Result<Containerd_Task_V2_DeleteResponse, TTRPCStatus>) in }
            events.publish("exec_die", record, exitCode: code, execID: session.id)
        }
        try? FileIO.removeTree(session.directory)
        loop.schedule(after: Daemon.execExitRetention) { [weak self] in self?.execSessions.removeValue(forKey: session.id) }
    }
}

/// One exec process as the daemon follows it.
final class ExecSession {
    let id: String
    let containerID: String
    let directory: String
    var shimWait: TTRPCLoopClient?
    var exitCode: Int32?
    var waiters: [TTRPCResponder<Tether_Daemon_V1_WaitResponse>] = []

    init(id: String, containerID: String, directory: String) {
        self.id = id
        self.containerID = containerID
        self.directory = directory
    }
}
