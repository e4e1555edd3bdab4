import Foundation
import Testing

/// Issue 14: bundles that runc 1.1.5 accepts, run through tether-runtime and runc side by side. Each test is about
/// parity: the same assertions hold for both runtimes (Documentation/Compatibility.md lists what is checked).
@Suite("tether-runtime conformance with runc")
struct RuntimeConformanceTests {
    static let runc = "/usr/sbin/runc"
    static var runcInstalled: Bool { TestEnvironment.hasCommand(runc) }
    static var canCompare: Bool { TestEnvironment.canRunContainers && runcInstalled }
    static let runtimes = ["tether-runtime", "runc"]
    static let unshare = "/usr/bin/unshare"

    /// A bundle plus a private --root, for one runtime.
    final class Fixture {
        let runtime: String
        let directory: TemporaryDirectory
        var root: String { directory.path + "/root" }
        var bundle: String { directory.path + "/bundle" }
        var executable: String { runtime == "runc" ? RuntimeConformanceTests.runc : RuntimeTests.runtime }

        init(_ runtime: String, args: [String], configure: (inout [String: Any]) -> Void = { _ in }) throws {
            self.runtime = runtime
            directory = try TemporaryDirectory("tether-conform")
            try BundleFixture.write(to: directory.path + "/bundle", args: args, configure: configure)
        }

        @discardableResult
        func run(_ arguments: [String]) throws -> CommandResult {
            try runCommand(executable, ["--root", root] + arguments)
        }

        /// `run` of a fresh container, which is gone afterwards (also when create failed).
        func runContainer() throws -> CommandResult {
            let id = uniqueID("cf")
            let result = try run(["run", "-b", bundle, id])
            _ = try? run(["delete", "-f", id])
            return result
        }

        /// The ids the runtime still knows.
        func containers() throws -> [String] {
            let list = try run(["list", "-q"])
            return list.stdout.split(separator: "\n").map(String.init)
        }
    }

    static func linux(_ config: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var linux = config["linux"] as? [String: Any] ?? [:]
        edit(&linux)
        config["linux"] = linux
    }

    static func process(_ config: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var process = config["process"] as? [String: Any] ?? [:]
        edit(&process)
        config["process"] = process
    }

    // MARK: item 1: /dev/ptmx in linux.devices

    /// Privileged managers list every host device, /dev/ptmx (c 5:2) included: it stays the pts/ptmx link (runc's
    /// createDevices skips it), and the other devices are made.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func ptmxInLinuxDevicesStaysTheLinkToPtsPtmx(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "readlink /dev/ptmx; test -c /dev/kmsg && echo kmsg"]) { config in
            Self.linux(&config) { linux in
                linux["devices"] = [
                    ["path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 0o666, "uid": 0, "gid": 0],
                    ["path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o644, "uid": 0, "gid": 0],
                ]
                linux["resources"] = ["devices": [["allow": true, "access": "rwm"]]]
            }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == "pts/ptmx\nkmsg\n", "\(runtime): \(result)")
    }

    // MARK: item 5: FIFOs in linux.devices

    /// A FIFO is made, and no device cgroup rule is derived from it (the cgroup has no FIFO type).
    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func aFifoInLinuxDevicesIsMadeWithoutACgroupRule(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "test -p /dev/myfifo && echo fifo"]) { config in
            Self.linux(&config) { linux in
                linux["devices"] = [["path": "/dev/myfifo", "type": "p", "fileMode": 0o600, "uid": 0, "gid": 0]]
            }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == "fifo\n", "\(runtime): \(result)")
    }

    /// Whether capability `number` is in this process's bounding set (/proc/self/status CapBnd).
    static func boundingSetHas(_ number: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(line.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return true }
        return mask & (1 << UInt64(number)) != 0
    }
}
