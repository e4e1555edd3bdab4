import Foundation
import Testing
import TetherTestSupport

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

    // MARK: item 2: relative commands

    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func aRelativeCommandIsFoundFromTheWorkingDirectory(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["./echo", "hi"]) { config in
            Self.process(&config) { $0["cwd"] = "/bin" }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == "hi\n", "\(runtime): \(result)")
    }

    // MARK: item 3: exec failures

    /// The texts managers classify (podman: "permission denied" → 126, "no such file or directory" and
    /// "executable file not found" → 127); `create` fails and leaves no container.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func execFailuresFailCreateWithGosTexts(runtime: String) throws {
        let cases: [(args: [String], text: String)] = [
            (["/etc"], #"exec: "/etc": permission denied"#),
            (["/etc/passwd"], #"exec: "/etc/passwd": permission denied"#),
            (["/no/such"], #"exec: "/no/such": stat /no/such: no such file or directory"#),
            (["/etc/passwd/x"], #"exec: "/etc/passwd/x": stat /etc/passwd/x: not a directory"#),
            (["nosuch"], #"exec: "nosuch": executable file not found in $PATH"#),
        ]
        for (args, text) in cases {
            let fixture = try Fixture(runtime, args: args)
            let id = uniqueID("cf")
            let created = try fixture.run(["create", "-b", fixture.bundle, id])
            #expect(created.status != 0, "\(runtime) \(args): \(created)")
            // runc prints its error through logrus, with the quotes escaped.
            #expect(created.stderr.replacingOccurrences(of: "\\\"", with: "\"").contains(text), "\(runtime) \(args): \(created)")
            #expect(try fixture.containers().isEmpty, "\(runtime) \(args): a failed create leaves no container")
            _ = try? fixture.run(["delete", "-f", id])
        }
    }

    // MARK: item 4: rootfsPropagation

    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes.flatMap { runtime in ["shared", "rshared"].map { (runtime, $0) } })
    func aSharedRootfsPropagationRuns(runtime: String, propagation: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "echo ok"]) { config in
            Self.linux(&config) { $0["rootfsPropagation"] = propagation }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime) \(propagation): \(result)")
        #expect(result.stdout == "ok\n", "\(runtime) \(propagation): \(result)")
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

    // MARK: item 6: the caller's mount namespace, or one joined by path

    /// Without a mount entry the container is in its caller's mount namespace (entered with chroot). Run inside a
    /// throwaway mount namespace (unshare -m), which the runtime's mounts do not outlive.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare && TestEnvironment.hasCommand(RuntimeConformanceTests.unshare),
                   "needs root, the busybox rootfs, runc and unshare"),
          arguments: RuntimeConformanceTests.runtimes)
    func withoutAMountNamespaceTheContainerSharesTheCallers(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "readlink /proc/self/ns/mnt; test -x /bin/busybox && echo in-rootfs"]) { config in
            Self.linux(&config) { linux in
                linux["namespaces"] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "cgroup"]]
                linux["maskedPaths"] = [String]()
                linux["readonlyPaths"] = [String]()
            }
            config["root"] = ["path": TestEnvironment.rootfs, "readonly": false]
        }
        let id = uniqueID("cf")
        let script = "readlink /proc/self/ns/mnt; '\(fixture.executable)' --root '\(fixture.root)' run -b '\(fixture.bundle)' \(id)"
        let result = try runCommand(Self.unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(lines.count == 3 && lines[0] == lines[1] && lines[2] == "in-rootfs", "\(runtime): \(result)")
        _ = try? fixture.run(["delete", "-f", id])
    }

    /// runc's validator: masked and read-only paths need a mount namespace of the container's.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func maskedPathsWithoutAMountNamespaceAreRefused(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/true"]) { config in
            Self.linux(&config) { linux in
                linux["namespaces"] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"]]
            }
        }
        let result = try fixture.runContainer()
        #expect(result.status != 0, "\(runtime): \(result)")
        #expect(result.stderr.contains("unable to restrict sys entries without a private MNT namespace"), "\(runtime): \(result)")
        #expect(try fixture.containers().isEmpty)
    }

    /// A mount namespace given by path is joined: here a throwaway one held by `unshare -m sleep`.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare && TestEnvironment.hasCommand(RuntimeConformanceTests.unshare),
                   "needs root, the busybox rootfs, runc and unshare"),
          arguments: RuntimeConformanceTests.runtimes)
    func aMountNamespaceGivenByPathIsJoined(runtime: String) throws {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: Self.unshare)
        holder.arguments = ["-m", "--propagation", "private", "/bin/sleep", "1000"]
        holder.standardInput = FileHandle.nullDevice
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer {
            // SIGKILL: the test process's blocked signals are inherited, SIGTERM would wait forever.
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        let myNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        let pid = holder.processIdentifier
        var holderNamespace = myNamespace
        for _ in 0..<500 where holderNamespace == myNamespace {
            holderNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")) ?? myNamespace
            if holderNamespace == myNamespace { usleep(10_000) }
        }
        #expect(holderNamespace != myNamespace, "unshare did not enter a new mount namespace")
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "readlink /proc/self/ns/mnt"]) { config in
            Self.linux(&config) { linux in
                linux["namespaces"] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"],
                                       ["type": "mount", "path": "/proc/\(pid)/ns/mnt"]]
            }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == holderNamespace + "\n", "\(runtime): \(result)")
    }

    // MARK: item 7: the init's last steps fail create

    /// CAP_SYS_RESOURCE is not in this machine's bounding set (checked first): capset cannot grant it, and `create`
    /// fails (runc: "unable to apply caps"); tether-runtime names the capability.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare && !RuntimeConformanceTests.boundingSetHas(24),
                   "needs root, the busybox rootfs, runc and a host bounding set without CAP_SYS_RESOURCE"),
          arguments: RuntimeConformanceTests.runtimes)
    func aCapabilityOutsideTheBoundingSetFailsCreate(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/true"]) { config in
            RuntimeSecurityTests.setCapabilities(&config, BundleFixture.defaultCapabilities + ["CAP_SYS_RESOURCE"])
        }
        let id = uniqueID("cf")
        let created = try fixture.run(["create", "-b", fixture.bundle, id])
        _ = try? fixture.run(["delete", "-f", id])
        #expect(created.status != 0, "\(runtime): \(created)")
        #expect(try fixture.containers().isEmpty)
        if runtime == "tether-runtime" {
            #expect(created.stderr.contains("CAP_SYS_RESOURCE") && created.stderr.contains("capabilities"), "\(created)")
        } else {
            #expect(created.stderr.contains("apply caps"), "\(created)")
        }
    }

    /// A missing process.cwd is made (runc's prepareRootfs, before the root becomes read-only); one that cannot be
    /// made fails `create`.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare, "needs root, the busybox rootfs and runc"),
          arguments: RuntimeConformanceTests.runtimes)
    func aMissingWorkingDirectoryIsMade(runtime: String) throws {
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", "pwd"]) { config in
            Self.process(&config) { $0["cwd"] = "/tmp/made/here" }
        }
        let result = try fixture.runContainer()
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == "/tmp/made/here\n", "\(runtime): \(result)")

        let impossible = try Fixture(runtime, args: ["/bin/true"]) { config in
            Self.process(&config) { $0["cwd"] = "/etc/passwd/x" }
        }
        let id = uniqueID("cf")
        let created = try impossible.run(["create", "-b", impossible.bundle, id])
        _ = try? impossible.run(["delete", "-f", id])
        #expect(created.status != 0, "\(runtime): \(created)")
        #expect(created.stderr.contains("not a directory"), "\(runtime): \(created)")
        #expect(try impossible.containers().isEmpty)
    }

    // MARK: item 8: bind-mount propagation

    /// A bind mount's propagation option, with linux.rootfsPropagation as containerd's CRI sets it for Kubernetes'
    /// mountPropagation (rslave for HostToContainer, rshared for Bidirectional): a mount made on the host under an
    /// rslave or rshared source appears in the container; for rshared a mount made in the container appears on
    /// the host; rprivate neither. All in a throwaway mount namespace (unshare -m), where the source is shared.
    @Test(.enabled(if: RuntimeConformanceTests.canCompare && TestEnvironment.hasCommand(RuntimeConformanceTests.unshare),
                   "needs root, the busybox rootfs, runc and unshare"),
          arguments: RuntimeConformanceTests.runtimes.flatMap { runtime in
              [("rprivate", false, false), ("rslave", true, false), ("rshared", true, true),
               ("rslave without rootfsPropagation", true, false)].map { (runtime, $0.0, $0.1, $0.2) }
          })
    func bindMountPropagation(runtime: String, propagation: String, hostToContainer: Bool, containerToHost: Bool) throws {
        let directory = try TemporaryDirectory("tether-propagation")
        let source = directory.path + "/source"
        for sub in ["hostmnt", "cmnt"] {
            try FileManager.default.createDirectory(atPath: source + "/" + sub, withIntermediateDirectories: true)
        }
        let inside = "test -e /tmp/s/hostmnt/host-file && echo host-mount-seen; mount -t tmpfs tmpfs /tmp/s/cmnt && touch /tmp/s/cmnt/c-file"
        let fixture = try Fixture(runtime, args: ["/bin/sh", "-c", inside]) { config in
            RuntimeSecurityTests.setCapabilities(&config, BundleFixture.defaultCapabilities + ["CAP_SYS_ADMIN"])
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            let option = String(propagation.prefix { $0 != " " })
            mounts.append(["destination": "/tmp/s", "type": "bind", "source": source, "options": ["rbind", option]])
            config["mounts"] = mounts
            // Without rootfsPropagation, / is rslave in the container (runc's prepareRoot default).
            if option != "rprivate" && option == propagation { Self.linux(&config) { $0["rootfsPropagation"] = option } }
        }
        let id = uniqueID("cf")
        let runtimeCommand = "'\(fixture.executable)' --root '\(fixture.root)'"
        // create (the bind is made), a host mount under the source, start, wait until the container stopped.
        let script = """
            set -e
            mount --bind '\(source)' '\(source)'; mount --make-shared '\(source)'
            \(runtimeCommand) create -b '\(fixture.bundle)' \(id) </dev/null
            mount -t tmpfs tmpfs '\(source)/hostmnt'; touch '\(source)/hostmnt/host-file'
            \(runtimeCommand) start \(id)
            until \(runtimeCommand) state \(id) | grep -q '"status" *: *"stopped"'; do sleep 0.05; done
            \(runtimeCommand) delete \(id)
            test -e '\(source)/cmnt/c-file' && echo container-mount-seen || true
            """
        let result = try runCommand(Self.unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script])
        _ = try? fixture.run(["delete", "-f", id])
        #expect(result.status == 0, "\(runtime) \(propagation): \(result)")
        #expect(result.stdout.contains("host-mount-seen") == hostToContainer, "\(runtime) \(propagation): \(result)")
        #expect(result.stdout.contains("container-mount-seen") == containerToHost, "\(runtime) \(propagation): \(result)")
    }

    /// Whether capability `number` is in this process's bounding set (/proc/self/status CapBnd).
    static func boundingSetHas(_ number: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(line.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return true }
        return mask & (1 << UInt64(number)) != 0
    }
}
