import Foundation
import TTRPC
import TetherAPI
import Testing

/// Issue 12, item 3: bad input is refused at the door, by tetherctl (exit 125, nothing created) and by tetherd
/// itself when a client skips tetherctl; what clients sent is never printed raw.
@Suite("tetherd and tetherctl refuse bad input", .serialized)
struct DaemonInputTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture
    static var rootfs: String { TestEnvironment.rootfs }

    static let forgedEvent = "2026-11-29T20:00:00.000000000Z container die 0123456789ab (exitCode=0, name=forged)"
    static let badNames: [(label: String, name: String)] = [
        ("a slash", "a/../../x"),
        ("a newline and a fake event line", "web\n" + forgedEvent),
        ("300 characters", String(repeating: "n", count: 300)),
        ("the empty string", ""),
        ("a leading dot", ".hidden"),
    ]

    /// Nothing of a container exists: no record, no bundle, nothing listed.
    static func expectNothingCreated(_ daemon: DaemonFixture, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try daemon.ctl(["ps", "-a", "-q"]).stdout.isEmpty, "\(context)", sourceLocation: sourceLocation)
        let containers = (try? FileManager.default.contentsOfDirectory(atPath: daemon.directory.path + "/root/containers")) ?? []
        #expect(containers.isEmpty, "\(context): \(containers)", sourceLocation: sourceLocation)
        let bundles = (try? FileManager.default.contentsOfDirectory(atPath: daemon.directory.path + "/state/bundles")) ?? []
        #expect(bundles.isEmpty, "\(context): \(bundles)", sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func badNamesGetExit125AndCreateNothing() throws {
        let daemon = try DaemonFixture()
        for (label, name) in Self.badNames {
            for command in ["run", "create"] {
                let result = try daemon.ctl([command, "--name", name, Self.rootfs, "/bin/true"])
                #expect(result.status == 125, "\(command) --name with \(label): \(result)")
                #expect(result.stderr.contains("container name"), "\(command) --name with \(label): \(result)")
                if name.count <= 128 {
                    #expect(result.stderr.contains("[a-zA-Z0-9][a-zA-Z0-9_.-]*"), "\(label): \(result)")
                }
                // The error is one line: the name's newline is escaped.
                #expect(result.stderr.split(separator: "\n").count <= 2, "\(label): \(result)")
                try Self.expectNothingCreated(daemon, "\(command) --name with \(label)")
            }
        }
        // Docker's rule lets these through.
        for name in ["a", "web-1.example_2", "0x"] {
            let created = try daemon.ctl(["create", "--name", name, Self.rootfs, "/bin/true"])
            #expect(created.status == 0, "\(name): \(created)")
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func tetherdRefusesABadNameSentOverTheAPI() throws {
        let daemon = try DaemonFixture()
        let client = try TTRPCClient(path: daemon.socket)
        defer { client.close() }
        for (label, name) in Self.badNames where !name.isEmpty {  // an empty name over the API means "none given"
            for method in [DaemonService.run, DaemonService.create] {
                let request = Tether_Daemon_V1_RunRequest.with {
                    $0.name = name
                    $0.rootfs = Self.rootfs
                    $0.args = ["/bin/true"]
                    $0.detach = true
                }
                do {
                    try client.call(method, request, timeout: .seconds(30))
                    Issue.record("\(method.method) accepted a name with \(label)")
                } catch let status as TTRPCStatus {
                    #expect(status.code == .invalidArgument, "\(method.method), \(label): \(status)")
                    #expect(status.message.contains("container name"), "\(method.method), \(label): \(status)")
                }
            }
        }
        // Nor a relative ROOTFS, nor one that would add overlay options.
        for rootfs in ["", "busybox", Self.rootfs + ",upperdir=/etc"] {
            let request = Tether_Daemon_V1_RunRequest.with {
                $0.rootfs = rootfs
                $0.args = ["/bin/true"]
            }
            #expect(throws: TTRPCStatus.self, "Create with ROOTFS \"\(rootfs)\"") {
                try client.call(DaemonService.create, request, timeout: .seconds(30))
            }
        }
        try Self.expectNothingCreated(daemon, "API")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func psPrintsOneLinePerContainerWhateverTheCommandHolds() throws {
        let daemon = try DaemonFixture()
        // A command with a newline, a fake ps row and an escape sequence: a client may run anything.
        let forgedRow = "0123456789ab   forged   \"/bin/true\"   1 second ago   Up 1 second"
        #expect(try daemon.ctl(["create", "--name", "plain", Self.rootfs, "/bin/true"]).status == 0)
        #expect(try daemon.ctl(["create", "--name", "tricky", Self.rootfs, "/bin/echo", "\n" + forgedRow + "\n", "\u{1b}[2J"]).status == 0)
        let ps = try daemon.ctl(["ps", "-a"])
        #expect(ps.status == 0, "\(ps)")
        let lines = ps.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 3, "\(ps)")
        #expect(!ps.stdout.contains("\u{1b}"), "\(ps)")
        #expect(ps.stdout.contains("\\n"), "\(ps)")
        // inspect is JSON: its strings carry the command escaped.
        let inspect = try daemon.ctl(["inspect", "tricky"])
        #expect(!inspect.stdout.contains("\u{1b}"), "\(inspect)")
        #expect(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) is [[String: Any]], "\(inspect)")
        // A reference no container has is not echoed raw in the error.
        let missing = try daemon.ctl(["inspect", "ghost\n" + Self.forgedEvent])
        #expect(missing.status != 0)
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func emptyAndRelativeRootfsAndImpossibleLimitsAreRefused() throws {
        let daemon = try DaemonFixture()
        for rootfs in ["", "relative/rootfs", "."] {
            for command in ["run", "create"] {
                let result = try daemon.ctl([command, rootfs, "/bin/true"])
                #expect(result.status == 125, "\(command) \"\(rootfs)\": \(result)")
                #expect(result.stderr.contains("ROOTFS"), "\(command) \"\(rootfs)\": \(result)")
            }
        }
        let memory = try daemon.ctl(["run", "--memory", "1", Self.rootfs, "/bin/true"])
        #expect(memory.status == 125, "\(memory)")
        #expect(memory.stderr.contains("Minimum memory limit allowed is 6MB"), "\(memory)")
        let justUnder = try daemon.ctl(["create", "--memory", "6143k", Self.rootfs, "/bin/true"])
        #expect(justUnder.status == 125, "\(justUnder)")
        let cpus = try daemon.ctl(["run", "--cpus", "999", Self.rootfs, "/bin/true"])
        #expect(cpus.status == 125, "\(cpus)")
        #expect(cpus.stderr.contains("range of CPUs is from 0.01 to"), "\(cpus)")
        #expect(cpus.stderr.contains("CPUs available"), "\(cpus)")
        try Self.expectNothingCreated(daemon, "limits")
        // Docker's minimum itself is accepted.
        let minimum = try daemon.ctl(["run", "--rm", "--memory", "6m", "--cpus", "0.5", Self.rootfs, "/bin/echo", "fits"])
        #expect(minimum.status == 0 && minimum.stdout == "fits\n", "\(minimum)")
    }
}
