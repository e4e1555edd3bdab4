import FoundationEssentials
import OCISpec
import TTRPC
import TetherAPI
import TetherRuntime

/// Exec: the process spec arrives as JSON in an Any (containerd's `spec` field), is recorded on Exec and
/// started on Start, as a child of the shim joined into the container.
extension Shim {
    func exec(_ request: Containerd_Task_V2_ExecProcessRequest) throws -> Google_Protobuf_Empty {
        guard let container = containers[request.id] else { throw TTRPCStatus(.notFound, "container \(request.id): not found") }
        guard !request.execID.isEmpty else { throw TTRPCStatus(.invalidArgument, "exec_id: must not be empty") }
        guard container.execs[request.execID] == nil else {
            throw TTRPCStatus(.alreadyExists, "id \(request.execID): already exists")
        }
        guard container.initProcess.status == .running else {
            throw TTRPCStatus(.failedPrecondition, "container \(request.id): cannot exec in a \(Shim.name(container.initProcess.status)) task")
        }
        let spec: OCISpec.Process
        do {
            spec = try JSONDecoder().decode(OCISpec.Process.self, from: Data(request.spec.value))
        } catch {
            throw TTRPCStatus(.invalidArgument, "spec: invalid process spec: \(error)")
        }
        guard !(spec.args ?? []).isEmpty else { throw TTRPCStatus(.invalidArgument, "spec.args: must not be empty") }
        let stdio: ProcessStdio
        do {
            stdio = try ProcessStdio(loop: loop, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr,
                                     terminal: request.terminal, containerID: request.id, namespace: flags.namespace)
        } catch {
            throw TTRPCStatus(.invalidArgument, "stdio: \(error)")
        }
        let process = ManagedProcess(execID: request.execID, stdio: stdio)
        container.execs[request.execID] = process
        pendingExecSpecs[ExecKey(container: request.id, exec: request.execID)] = spec
        events.publish(Containerd_Events_TaskExecAdded.with {
            $0.containerID = request.id
            $0.execID = request.execID
        })
        return Google_Protobuf_Empty()
    }

    func startExec(_ container: ContainerTask, _ process: ManagedProcess) throws {
        guard let spec = pendingExecSpecs[ExecKey(container: container.id, exec: process.execID)] else {
            throw TTRPCStatus(.failedPrecondition, "exec \(process.execID): no process spec")
        }
        let io = ProcessIO(stdin: process.stdio.childStdin, stdout: process.stdio.childStdout,
                           stderr: process.stdio.childStderr, consoleSocket: process.stdio.consoleSocketForChild)
        do {
            process.pid = try ExecLauncher.launch(runtime: runtime, id: container.id, process: spec, io: io)
            try process.stdio.childStarted()
        } catch {
            // A process that could not start is finished (exit 255, as runc's shim reports it): its
            // waiters are answered now, never left hanging.
            pendingExecSpecs.removeValue(forKey: ExecKey(container: container.id, exec: process.execID))
            process.markExited(status: 255, at: .now())
            process.stdio.closeAll()
            throw Shim.status(error)
        }
        pendingExecSpecs.removeValue(forKey: ExecKey(container: container.id, exec: process.execID))
        process.status = .running
        events.publish(Containerd_Events_TaskExecStarted.with {
            $0.containerID = container.id
            $0.execID = process.execID
            $0.pid = UInt32(process.pid)
        })
        claimEarlyExit(container, process)
    }
}

struct ExecKey: Hashable {
    let container: String
    let exec: String
}
