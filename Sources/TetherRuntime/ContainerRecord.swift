#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherSystem

/// What the runtime keeps about a container in `root/<id>/state.json`. The init is identified by its pid
/// **and** its start time, so a reused pid is never mistaken for it.
struct ContainerRecord: Codable, Equatable {
    var id: String
    var initPid: Int32
    var initStartTime: UInt64
    var bundle: String
    var rootfs: String
    var created: String
    var owner: String
    var annotations: [String: String]?
    var cgroups: ControlGroupSet
    /// Namespace types the container has, with the path it joined (nil: its own, under /proc/<init>/ns).
    var namespaces: [Linux.Namespace]
    /// The spec's process (exec defaults such as noNewPrivileges come from it).
    var process: OCISpec.Process?
    /// The config's `linux.seccomp`: exec'd processes get the container's filter, as with runc.
    var seccomp: Seccomp? = nil
    /// The config's hooks: `start` runs poststart (and waits for startContainer), `delete` runs poststop.
    var hooks: Hooks? = nil
    /// The `linux.resources` in effect: create's (with the allow rules for `linux.devices`), each `update`
    /// merged in (Resources.merging), as runc keeps its cgroup config in state.json.
    var resources: Resources? = nil

    var sharesHostPidNamespace: Bool { !namespaces.contains { $0.type == .pid && $0.path == nil } }
}

/// Where a container's files live.
struct ContainerPaths {
    let directory: String
    var stateFile: String { directory + "/state.json" }
    var execFifo: String { directory + "/exec.fifo" }
    /// Where the init reports its startContainer hooks to `start` (only with such hooks).
    var startHooksResultFifo: String { directory + "/start-hooks.fifo" }

    init(root: String, id: String) {
        directory = root + "/" + id
    }
}

extension ContainerRecord {
    static func load(_ paths: ContainerPaths, id: String) throws -> ContainerRecord {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(paths.stateFile)
        } catch let error as SyscallError where error.errno == ENOENT {
            throw RuntimeError(.notFound, "container \"\(id)\" does not exist")
        }
        do {
            return try ContainerRecord.read(bytes)
        } catch {
            throw RuntimeError(.system, "\(paths.stateFile): unreadable state: \(error.description)")
        }
    }

    /// A record with the identity of the state.json it came from. A save renames a new file into place, so a
    /// changed inode, device, size or ctime means someone else wrote (or deleted and recreated) the container.
    struct Cached {
        let record: ContainerRecord
        let file: FileIdentity
    }

    struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let changedSeconds: Int
        let changedNanoseconds: Int

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            changedSeconds = info.st_ctim.tv_sec
            changedNanoseconds = info.st_ctim.tv_nsec
        }
    }

    func save(_ paths: ContainerPaths) throws {
        var writer = JSONWriter()
        write(to: &writer)
        let bytes = writer.bytes
        // Atomic (rename) but not fsync'd, as runc: the state describes live processes and lives on /run,
        // which does not outlast a reboot; the rename alone keeps readers from seeing a partial file.
        try FileIO.writeAtomically(paths.stateFile, bytes, mode: 0o600, sync: false)
    }

    /// The derived status: fifo present → created; init alive → running (paused if frozen); else stopped.
    func status(_ paths: ContainerPaths) -> State.Status {
        guard ProcessSupport.isAlive(initPid, startTime: initStartTime) else { return .stopped }
        if FileIO.exists(paths.execFifo) { return .created }
        if cgroups.isFrozen() { return .paused }
        return .running
    }

    func state(_ paths: ContainerPaths) -> ContainerState {
        let status = status(paths)
        return ContainerState(id: id, pid: status == .stopped ? 0 : initPid, status: status, bundle: bundle,
                              rootfs: rootfs, created: created, owner: owner, annotations: annotations)
    }
}

/// state.json written directly (JSONWriter), read back directly too (ContainerRecord+Reading.swift).
extension ContainerRecord: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("id", id)
            writer.field("initPid", initPid)
            writer.field("initStartTime", initStartTime)
            writer.field("bundle", bundle)
            writer.field("rootfs", rootfs)
            writer.field("created", created)
            writer.field("owner", owner)
            writer.field("annotations", annotations)
            writer.field("cgroups", cgroups)
            writer.field("namespaces", namespaces)
            writer.field("process", process)
            writer.field("seccomp", seccomp)
            writer.field("hooks", hooks)
            writer.field("resources", resources)
        }
    }
}

extension ControlGroupSet: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in writer.field("paths", paths) }
    }
}

enum Timestamp {
    /// Now as RFC 3339 with nanoseconds in UTC, like Go's time.RFC3339Nano.
    static func now() -> String { RFC3339.now() }
}
