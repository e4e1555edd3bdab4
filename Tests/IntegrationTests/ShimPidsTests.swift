import Foundation
import Testing

/// Issue 12, item 6: the shim's Pids lists the container's cgroup (as runc's `ps`), with each exec'd process's
/// exec id, never the processes of a pid namespace the container shares with the host.
@Suite("Pids from the container's cgroup")
struct ShimPidsTests {
    struct Listed {
        let pid: Int32
        let execID: String?
    }

    static func pids(_ shim: ShimHarnessFixture, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Listed] {
        let reply = try shim.call("pids", sourceLocation: sourceLocation)
        let processes = reply["processes"] as? [[String: Any]] ?? []
        return processes.map { Listed(pid: Int32(truncatingIfNeeded: $0["pid"] as? Int ?? 0), execID: $0["exec_id"] as? String) }
    }

    @Test("in the host's pid namespace, Pids lists only the container's processes, an exec's with its exec id",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func pidsInTheHostPidNamespaceAreTheContainersOnly() throws {
        // No pid namespace of its own (`--pid host`): the init's pid namespace holds every process of the host.
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"], pidNamespace: false)
        let initPid = try shim.createAndStart()
        let alone = try Self.pids(shim)
        #expect(alone.map(\.pid) == [initPid], "\(alone)")
        #expect(alone.first?.execID == nil)

        try shim.call("exec", ["--exec-id", "probe-1", "--", "sleep", "1000"])
        let execPid = Int32(truncatingIfNeeded: (try shim.call("start", ["--exec-id", "probe-1"]))["pid"] as? Int ?? 0)
        #expect(execPid > 0)
        let both = try Self.pids(shim)
        #expect(Set(both.map(\.pid)) == [initPid, execPid], "\(both)")
        #expect(both.first { $0.pid == execPid }?.execID == "probe-1", "\(both)")
        #expect(both.first { $0.pid == initPid }?.execID == nil, "\(both)")
        // The host has more processes than these two (this test process, for one): none is listed.
        #expect(!both.contains { $0.pid == getpid() })
        // The fixture's cleanup kills both (kill --all: the cgroup) and deletes the task.
    }
}
