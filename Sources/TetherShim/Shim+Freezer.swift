#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TTRPC
import TetherAPI
import TetherSystem

/// Pause and Resume through the container's freezer cgroup (v1 `freezer.state`, v2 `cgroup.freeze`), done by
/// the shim until the runtime library has pause/resume of its own; Stats reads the cgroup v1 counters (CgroupMetrics);
/// Update writes cgroup v1 limits (CgroupUpdate); Checkpoint answers with an error naming the missing piece.
extension Shim {
    func registerFreezerService() {
        let service = TaskService.name
        server.register(service, "Pause") { [unowned self] (request: Containerd_Task_V2_PauseRequest, _, reply: TTRPCResponder<Google_Protobuf_Empty>) in
            reply.complete {
                try self.setFrozen(request.id, true)
                return Google_Protobuf_Empty()
            }
        }
        server.register(service, "Resume") { [unowned self] (request: Containerd_Task_V2_ResumeRequest, _, reply: TTRPCResponder<Google_Protobuf_Empty>) in
            reply.complete {
                try self.setFrozen(request.id, false)
                return Google_Protobuf_Empty()
            }
        }
        server.register(service, "Update") { [unowned self] (request: Containerd_Task_V2_UpdateTaskRequest, _, reply: TTRPCResponder<Google_Protobuf_Empty>) in
            reply.complete {
                let process = try self.lookup(request.id, "").1
                guard !process.hasExited else { throw TTRPCStatus(.failedPrecondition, "update \(request.id): the task has exited") }
                let resources: Resources
                do {
                    resources = try JSONDecoder().decode(Resources.self, from: Data(request.resources.value))
                } catch {
                    throw TTRPCStatus(.invalidArgument, "resources: invalid linux.resources JSON: \(error)")
                }
                do {
                    try CgroupUpdate.apply(resources, pid: process.pid)
                } catch {
                    throw TTRPCStatus(.failedPrecondition, "update \(request.id): \(error)")
                }
                return Google_Protobuf_Empty()
            }
        }
        server.register(service, "Stats") { [unowned self] (request: Containerd_Task_V2_StatsRequest, _, reply: TTRPCResponder<Containerd_Task_V2_StatsResponse>) in
            reply.complete {
                let process = try self.lookup(request.id, "").1
                guard !process.hasExited, let bytes = CgroupMetrics.v1(pid: process.pid) else {
                    throw TTRPCStatus(.failedPrecondition, "stats \(request.id): no cgroup v1 hierarchy for the task (cgroup v2 metrics are not implemented yet)")
                }
                return Containerd_Task_V2_StatsResponse.with {
                    $0.stats = Google_Protobuf_Any.with { any in
                        any.typeURL = CgroupMetrics.typeURL
                        any.value = Data(bytes)
                    }
                }
            }
        }
        server.register(service, "Checkpoint") { [unowned self] (request: Containerd_Task_V2_CheckpointTaskRequest, _, reply: TTRPCResponder<Google_Protobuf_Empty>) in
            reply.complete {
                _ = try self.lookup(request.id, "")
                throw TTRPCStatus(.unknown, "checkpoint \(request.id): needs CRIU support in the runtime")
            }
        }
    }

    private func setFrozen(_ id: String, _ frozen: Bool) throws {
        let (container, process) = try lookup(id, "")
        let wanted: TaskStatus = frozen ? .running : .paused
        guard process.status == wanted else {
            throw TTRPCStatus(.failedPrecondition, "container \(id): cannot \(frozen ? "pause" : "resume") a \(Shim.name(process.status)) task")
        }
        guard let freezer = Freezer(pid: process.pid) else {
            throw TTRPCStatus(.failedPrecondition, "container \(id): no freezer cgroup of its own")
        }
        do {
            try freezer.set(frozen: frozen)
        } catch {
            throw TTRPCStatus(.unknown, "container \(id): \(frozen ? "pause" : "resume"): \(error)")
        }
        process.status = frozen ? .paused : .running
        if frozen {
            events.publish(Containerd_Events_TaskPaused.with { $0.containerID = container.id })
        } else {
            events.publish(Containerd_Events_TaskResumed.with { $0.containerID = container.id })
        }
    }
}

/// A process's freezer cgroup: v1 `freezer.state` (FROZEN/THAWED), v2 `cgroup.freeze` (1/0).
struct Freezer {
    let directory: String
    let isV2: Bool

    init?(pid: Int32) {
        guard let text = try? FileIO.readText("/proc/\(pid)/cgroup") else { return nil }
        var unified: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[1].split(separator: ",").contains("freezer") {
                guard fields[2] != "/" else { return nil }
                directory = "/sys/fs/cgroup/freezer" + fields[2]
                isV2 = false
                return
            }
            if fields[0] == "0" && fields[1].isEmpty { unified = String(fields[2]) }
        }
        guard let unified, unified != "/", FileIO.exists("/sys/fs/cgroup/cgroup.controllers") else { return nil }
        directory = "/sys/fs/cgroup" + unified
        isV2 = true
    }

    /// Sets the state and waits (bounded, 5 s) until the kernel reports it reached.
    func set(frozen: Bool) throws {
        let file = directory + (isV2 ? "/cgroup.freeze" : "/freezer.state")
        let value = isV2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED")
        for _ in 0..<500 {
            let fd = try FileIO.open(file, O_WRONLY | O_CLOEXEC)
            defer { FileIO.close(fd) }
            try FileIO.writeAll(fd, value)
            if reached(frozen) { return }
            usleep(10_000)
        }
        throw SyscallError("\(file): did not reach \(value)", errno: EBUSY)
    }

    private func reached(_ frozen: Bool) -> Bool {
        if isV2 {
            let events = (try? FileIO.readText(directory + "/cgroup.events")) ?? ""
            return events.split(separator: "\n").contains(Substring(frozen ? "frozen 1" : "frozen 0"))
        }
        let state = ((try? FileIO.readText(directory + "/freezer.state")) ?? "").split(whereSeparator: \.isWhitespace).first
        return state == Substring(frozen ? "FROZEN" : "THAWED")
    }
}
