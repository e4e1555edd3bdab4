import Foundation
import Testing
import TetherSystem
import TetherTestSupport

/// Issue 2: namespaces the init cannot simply be cloned into (a joined pid namespace, a new time namespace),
/// user namespaces, and a terminal handed over runc's console socket.
@Suite("tether-runtime namespaces and terminal")
struct RuntimeNamespaceTests {
    typealias Fixture = RuntimeTests.Fixture

    static func namespaces(_ fixture: inout [String: Any], _ edit: (inout [[String: Any]]) -> Void) {
        var linux = fixture["linux"] as? [String: Any] ?? [:]
        var namespaces = linux["namespaces"] as? [[String: Any]] ?? []
        edit(&namespaces)
        linux["namespaces"] = namespaces
        fixture["linux"] = linux
    }

    static func waitUntilStopped(_ fixture: Fixture, _ id: String, seconds: Int = 10) throws -> Bool {
        try waitUntil(timeout: TimeInterval(seconds)) { (try fixture.state(id)?["status"] as? String) == "stopped" }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aContainerJoiningAnotherPidNamespaceDiesWithItsInit() throws {
        let owner = try Fixture(args: ["/bin/sleep", "100"])
        let ownerID = uniqueID()
        #expect(try owner.runDetached(["run", "-d", "-b", owner.bundle, ownerID]).status == 0)
        defer { _ = try? owner.run(["delete", "-f", ownerID]) }
        let ownerPid = try owner.state(ownerID)?["pid"] as? Int ?? 0
        try #require(ownerPid > 0)

        let joiner = try Fixture(args: ["/bin/sleep", "100"]) { config in
            RuntimeNamespaceTests.namespaces(&config) { namespaces in
                namespaces = namespaces.filter { $0["type"] as? String != "pid" }
                namespaces.append(["type": "pid", "path": "/proc/\(ownerPid)/ns/pid"])
            }
        }
        let joinerID = uniqueID()
        let run = try joiner.runDetached(["run", "-d", "-b", joiner.bundle, joinerID])
        #expect(run.status == 0, "\(run)")
        defer { _ = try? joiner.run(["delete", "-f", joinerID]) }
        let joinerPid = try joiner.state(joinerID)?["pid"] as? Int ?? 0
        try #require(joinerPid > 0)

        let ownerNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(ownerPid)/ns/pid")
        let joinerNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(joinerPid)/ns/pid")
        #expect(ownerNamespace == joinerNamespace)
        // The runtime's own children are back in its pid namespace.
        let ownNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        #expect(ownNamespace != joinerNamespace)

        kill(Int32(ownerPid), SIGKILL)
        #expect(try RuntimeNamespaceTests.waitUntilStopped(owner, ownerID))
        #expect(try RuntimeNamespaceTests.waitUntilStopped(joiner, joinerID), "the joiner outlived the namespace's init")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers && FileManager.default.fileExists(atPath: "/proc/self/ns/time"),
                   "needs root, the busybox rootfs and a kernel with time namespaces"))
    func aTimeNamespaceShiftsTheBootClock() throws {
        let fixture = try Fixture(args: ["/bin/cat", "/proc/uptime"]) { config in
            RuntimeNamespaceTests.namespaces(&config) { $0.append(["type": "time"]) }
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["timeOffsets"] = ["boottime": ["secs": 1_000_000, "nanosecs": 0]]
            config["linux"] = linux
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status == 0, "\(result)")
        let uptime = Double(result.stdout.split(separator: " ").first ?? "") ?? 0
        #expect(uptime >= 1_000_000, "\(result)")
        let hostUptime = Double((try String(contentsOfFile: "/proc/uptime", encoding: .utf8)).split(separator: " ")[0]) ?? 0
        #expect(hostUptime < uptime)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func unknownTimeOffsetClockIsRefused() throws {
        let fixture = try Fixture(args: ["/bin/true"]) { config in
            RuntimeNamespaceTests.namespaces(&config) { $0.append(["type": "time"]) }
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["timeOffsets"] = ["realtime": ["secs": 5]]
            config["linux"] = linux
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status != 0)
        #expect(result.stderr.contains("linux.timeOffsets.realtime"), "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aUserNamespaceMapsRootToTheConfiguredHostRange() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"]) { config in
            RuntimeNamespaceTests.namespaces(&config) { $0.append(["type": "user"]) }
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            config["linux"] = linux
        }
        let id = uniqueID()
        let result = try fixture.run(["run", "-b", fixture.bundle, id])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["0 100000 65536", "0 100000 65536", "0", "0"], "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aTerminalContainerSendsItsPtyMasterToTheConsoleSocket() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "test -t 0 && test -t 1 && echo tty-yes; stty size; sleep 1"]) {
            var process = $0["process"] as? [String: Any] ?? [:]
            process["terminal"] = true
            process["consoleSize"] = ["height": 33, "width": 101]
            $0["process"] = process
        }
        let console = try ConsoleSocket(path: fixture.directory.path + "/console.sock")
        let id = uniqueID()
        let run = try fixture.runDetached(["run", "-d", "--console-socket", console.path, "-b", fixture.bundle, id])
        #expect(run.status == 0, "\(run)")
        defer { _ = try? fixture.run(["delete", "-f", id]) }

        let received = try #require(try console.receiveMaster(), "the runtime sent one pty master on the console socket")
        defer { close(received.master) }
        #expect(received.name == "/dev/ptmx", "runc's payload is the master's name: \(received.name)")
        let output = ConsoleSocket.read(received.master) { $0.contains("tty-yes") && $0.contains("33 101") }
        #expect(output.contains("tty-yes"), "\(output)")
        #expect(output.contains("33 101"), "consoleSize applied: \(output)")
    }
}
