import Foundation
import Testing
import TetherTestSupport

/// Issue 12, item 5: one tetherd, one world. Everything a tetherd and its shims create (records, bundles, shim
/// sockets, runtime state, the seccomp cache) is under its `--root` and `--state`: two tetherds run containers of
/// the same names side by side, and stopping one leaves the other's containers running.
@Suite("two tetherds share nothing", .serialized)
struct DaemonIsolationTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture
    static let names = ["web", "worker"]

    /// Every file and directory under `path`, relative.
    static func tree(_ path: String) -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func twoDaemonsRunTheSameNamesAndStopWithoutTouchingEachOther() throws {
        let first = try DaemonFixture()
        let second = try DaemonFixture()
        var ids: [ObjectIdentifier: [String]] = [:]
        var pids: [ObjectIdentifier: [Int32]] = [:]
        for daemon in [first, second] {
            for name in Self.names {
                let run = try daemon.ctl(["run", "-d", "--name", name, TestEnvironment.rootfs, "/bin/sleep", "1000"])
                #expect(run.status == 0, "\(run)")
                let info = try daemon.inspect(name)
                let id = info["Id"] as? String ?? ""
                ids[ObjectIdentifier(daemon), default: []].append(id)
                pids[ObjectIdentifier(daemon), default: []].append(Int32((info["State"] as? [String: Any])?["Pid"] as? Int ?? 0))
                // The shim's socket is in this tetherd's state directory.
                let address = info["ShimAddress"] as? String ?? ""
                #expect(address.hasPrefix("unix://" + daemon.directory.path + "/state/s/"), "\(name): \(address)")
                // Nothing of it in the default state directories of the machine.
                #expect(!FileManager.default.fileExists(atPath: "/run/tether/runtime/tether/" + id), "\(name): runtime state in /run/tether")
                #expect(!FileManager.default.fileExists(atPath: "/run/tether/bundles/" + id), "\(name): bundle in /run/tether")
            }
        }
        let firstIDs = ids[ObjectIdentifier(first)] ?? []
        let secondIDs = ids[ObjectIdentifier(second)] ?? []
        #expect(firstIDs.count == 2 && secondIDs.count == 2 && Set(firstIDs).isDisjoint(with: secondIDs))
        // Each tetherd's directories hold its own containers (runtime state and seccomp cache included), never the
        // other's.
        for (daemon, own, other) in [(first, firstIDs, secondIDs), (second, secondIDs, firstIDs)] {
            let state = Self.tree(daemon.directory.path + "/state")
            let root = Self.tree(daemon.directory.path + "/root")
            for id in own {
                #expect(state.contains("runtime/tether/\(id)/state.json"), "\(id) has no runtime state under --state: \(state)")
                #expect(state.contains("bundles/\(id)"), "\(id)")
                #expect(root.contains("containers/\(id)/record.json"), "\(id)")
            }
            #expect(state.contains { $0.hasPrefix("runtime/tether/@seccomp-cache/") }, "no seccomp cache under --state: \(state)")
            for id in other {
                #expect(!(state + root).contains { $0.contains(id) }, "the other tetherd's \(id) is in this one's directories")
            }
        }
        // Stop the first: its containers removed, tetherd and its shims gone.
        for name in Self.names { #expect(try first.ctl(["rm", "-f", name]).status == 0) }
        #expect(waitUntil(timeout: 30) { first.shims.count <= 1 }, "the first tetherd's shims did not exit")
        first.kill9()
        for pid in first.shims { kill(pid, SIGKILL) }
        // The second's containers run on, by the same names.
        for pid in pids[ObjectIdentifier(second)] ?? [] { #expect(pid > 0 && kill(pid, 0) == 0, "container init \(pid) died") }
        let ps = try second.ctl(["ps"])
        for name in Self.names {
            #expect(ps.stdout.split(separator: "\n").contains { $0.contains(" \(name) ") && $0.contains("Up ") }, "\(ps)")
        }
        let exec = try second.ctl(["exec", "web", "/bin/echo", "still here"])
        #expect(exec.stdout == "still here\n", "\(exec)")
    }
}
