import FoundationEssentials
import OCISpec
import TTRPC
import TetherAPI
import TetherRuntime

/// Exec: the process spec arrives as JSON in an Any (containerd's `spec` field), is checked and recorded on Exec
/// and started on Start, as a child of the shim joined into the container. Both the decoding and the runtime's
/// exec run in one-off children (OneOffChild): an exec (a probe every few seconds, say) leaves none of their
/// metadata, heap or code resident in the shim (anonymous memory and mapped code that
/// the first exec would otherwise leave); the spec is kept as the JSON it came as.
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
        let specJSON = Array(request.spec.value)
        _ = try OneOffChild.run("exec") {
            _ = try Shim.processSpec(specJSON)
            return []
        }
        let stdio: ProcessStdio
        do {
            stdio = try ProcessStdio(loop: loop, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr,
                                     terminal: request.terminal, containerID: request.id, namespace: flags.namespace)
        } catch {
            throw TTRPCStatus(.invalidArgument, "stdio: \(error)")
        }
        let process = ManagedProcess(execID: request.execID, stdio: stdio)
        container.execs[request.execID] = process
        pendingExecSpecs[ExecKey(container: request.id, exec: request.execID)] = specJSON
        events.publish(Containerd_Events_TaskExecAdded.with {
            $0.containerID = request.id
            $0.execID = request.execID
        })
        return Google_Protobuf_Empty()
    }

    func startExec(_ container: ContainerTask, _ process: ManagedProcess) throws {
        guard let specJSON = pendingExecSpecs[ExecKey(container: container.id, exec: process.execID)] else {
            throw TTRPCStatus(.failedPrecondition, "exec \(process.execID): no process spec")
        }
        let io = ProcessIO(stdin: process.stdio.childStdin, stdout: process.stdio.childStdout,
                           stderr: process.stdio.childStderr, consoleSocket: process.stdio.consoleSocketForChild)
        do {
            // The exec'd process is cloned (CLONE_PARENT) as a child of the one-off child, and re-parented to
            // the shim when that exits.
            let runtime = self.runtime, id = container.id
            let answer = try OneOffChild.run("exec") {
                OneOffChild.bytes(of: try ExecLauncher.launch(runtime: runtime, id: id, process: Shim.processSpec(specJSON), io: io))
            }
            process.pid = OneOffChild.int32(answer[...])
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

extension Shim {
    /// The process spec of an Exec request, checked as containerd's runc shim does (INVALID_ARGUMENT otherwise).
    static func processSpec(_ json: [UInt8]) throws -> OCISpec.Process {
        let spec: OCISpec.Process
        do {
            spec = try JSONDecoder().decode(OCISpec.Process.self, from: Data(json))
        } catch {
            throw TTRPCStatus(.invalidArgument, "spec: invalid process spec: \(error)")
        }
        guard !(spec.args ?? []).isEmpty else { throw TTRPCStatus(.invalidArgument, "spec.args: must not be empty") }
        return spec
    }
}

struct ExecKey: Hashable {
    let container: String
    let exec: String
}
