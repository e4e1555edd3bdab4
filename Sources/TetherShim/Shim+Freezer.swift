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
                    try self.runtime.update(id: request.id, resources: resources)
                } catch {
                    throw TTRPCStatus(.failedPrecondition, "update \(request.id): \(error)")
                }
                return Google_Protobuf_Empty()
            }
        }
        server.register(service, "Stats") { [unowned self] (request: Containerd_Task_V2_StatsRequest, _, reply: TTRPCResponder<Containerd_Task_V2_StatsResponse>) in
            reply.complete {
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
