#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TTRPC
import TetherAPI
import TetherRuntime
import TetherSystem

/// Pause, Resume, Update and Stats through the runtime library (Runtime.pause/resume/update/stats: the
/// container's freezer and limits, cgroup v1 or v2); Stats is encoded as containerd's cgroup v1 or v2
/// metrics (CgroupMetrics); Checkpoint answers with an error naming the missing piece.
extension Shim {
    func registerFreezerService() {
        server.register(TaskService.pause, sync: { [unowned self] request in
            try self.setFrozen(request.id, true)
            return Google_Protobuf_Empty()
        })
        server.register(TaskService.resume, sync: { [unowned self] request in
            try self.setFrozen(request.id, false)
            return Google_Protobuf_Empty()
        })
        server.register(TaskService.update, sync: { [unowned self] request in
            let process = try self.lookup(request.id, "").1
            guard !process.hasExited else { throw TTRPCStatus(.failedPrecondition, "update \(request.id): the task has exited") }
            let resources: Resources
            do {
                resources = try JSONDecoder().decode(Resources.self, from: Data(request.resources.value))
            } catch {
                throw TTRPCStatus(.invalidArgument, "resources: invalid linux.resources JSON: \(error)")
            }
            do {
                try self.runtime.update(id: request.id, resources: resources)
            } catch {
                throw TTRPCStatus(.failedPrecondition, "update \(request.id): \(error)")
            }
            return Google_Protobuf_Empty()
        })
        server.register(TaskService.stats, sync: { [unowned self] request in
            let process = try self.lookup(request.id, "").1
            guard !process.hasExited else {
                throw TTRPCStatus(.failedPrecondition, "stats \(request.id): the task has exited")
            }
            let stats: ContainerStats
            do {
                stats = try self.runtime.stats(id: request.id)
            } catch {
                throw TTRPCStatus(.failedPrecondition, "stats \(request.id): \(error)")
            }
            let metrics = try CgroupMetrics.any(stats)
            return Containerd_Task_V2_StatsResponse.with { $0.stats = metrics }
        })
        server.register(TaskService.checkpoint, sync: { [unowned self] request in
            _ = try self.lookup(request.id, "")
            throw TTRPCStatus(.unknown, "checkpoint \(request.id): needs CRIU support in the runtime")
        })
    }

    private func setFrozen(_ id: String, _ frozen: Bool) throws {
        let (container, process) = try lookup(id, "")
        let wanted: TaskStatus = frozen ? .running : .paused
        guard process.status == wanted else {
            throw TTRPCStatus(.failedPrecondition, "container \(id): cannot \(frozen ? "pause" : "resume") a \(Shim.name(process.status)) task")
        }
        do {
            if frozen { try runtime.pause(id: container.id) } else { try runtime.resume(id: container.id) }
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
