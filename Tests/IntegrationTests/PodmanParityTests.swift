import Foundation
import Testing
import TetherTestSupport

/// Issue 14: podman (Debian's 4.3, through conmon) drives tether-runtime as it drives runc. Every assertion runs for
/// both runtimes: the test is about parity. podman gets a private --root/--runroot/--tmpdir (vfs storage, so no
/// overlay mounts), a private cgroup parent and no network, all removed afterwards.
@Suite("podman with tether-runtime and runc")
struct PodmanParityTests {
    static let podmanPath = "/usr/bin/podman"
    static var canRun: Bool {
        RuntimeConformanceTests.canCompare && TestEnvironment.hasCommand(podmanPath) && RuntimeInteropTests.conmonInstalled
    }

    /// One private podman world for one runtime.
    final class Podman {
        let runtime: String
        let directory: TemporaryDirectory
        let cgroupParent: String
        let image = "localhost/tether-busybox:test"

        init(runtime: String) throws {
            self.runtime = runtime == "runc" ? RuntimeConformanceTests.runc : RuntimeTests.runtime
            directory = try TemporaryDirectory("tether-podman")
            cgroupParent = "/" + uniqueID("tether-podman")
            for sub in ["root", "runroot", "tmp"] {
                try FileManager.default.createDirectory(atPath: directory.path + "/" + sub, withIntermediateDirectories: true)
            }
            // The test image is the busybox test rootfs (`podman import`).
            let tarball = directory.path + "/rootfs.tar"
            let tar = try runCommand("/bin/tar", ["-C", TestEnvironment.rootfs, "-cf", tarball, "."])
            guard tar.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["tar": tar.description]) }
            let imported = try podman(["import", tarball, image])
            guard imported.status == 0 else { throw CocoaError(.fileReadUnknown, userInfo: ["podman import": imported.description]) }
        }

        var globalArguments: [String] {
            ["--root", directory.path + "/root", "--runroot", directory.path + "/runroot", "--tmpdir", directory.path + "/tmp",
             "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", runtime]
        }

        /// Runs podman with its output in files, spawned without Foundation's Process: conmon, which podman leaves
        /// behind, would inherit and hold Process's hidden descriptors and pipes.
        /// `underScript`: podman runs on the pty of `script` (for `-it`), its output in the typescript.
        @discardableResult
        func podman(_ arguments: [String], underScript: Bool = false) throws -> CommandResult {
            let output = directory.path + "/podman.out", errors = directory.path + "/podman.err"
            func quote(_ words: [String]) -> String {
                words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            }
            let quoted = quote([PodmanParityTests.podmanPath] + globalArguments + arguments)
            // Under script, one line of input ("go") goes to the container through the attached pty: a process
            // that reads it before it writes cannot exit before podman is attached to its output.
            let shell = underScript
                ? "printf 'go\\n' | \(quote(["/usr/bin/script", "-qec", quoted, "/dev/null"])) >'\(output)' 2>'\(errors)'"
                : "exec \(quoted) </dev/null >'\(output)' 2>'\(errors)'"
            let (result, _) = try TTRPCInteropTests.spawnAndWait(
                ["/bin/sh", "-c", shell], directory: directory.path,
                environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "xterm"])
            return CommandResult(status: result.status, stdout: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "",
                                 stderr: (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
        }

        /// Options for every container: no network, the private cgroup parent, and rlimits this host can grant
        /// (podman's default RLIMIT_NOFILE/NPROC exceed root's hard limits here, and CAP_SYS_RESOURCE is not in
        /// the bounding set: both runtimes refuse them alike).
        var containerOptions: [String] {
            ["--network", "none", "--cgroup-parent", cgroupParent, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        }

        func run(_ arguments: [String], command: [String], underScript: Bool = false) throws -> CommandResult {
            try podman(["run"] + containerOptions + arguments + [image] + command, underScript: underScript)
        }

        /// Everything podman made: containers, the image, mounts left under the directory, the cgroups.
        func tearDown() {
            _ = try? podman(["rm", "-af", "-t", "0"])
            _ = try? podman(["rmi", "-af"])
            let mountInfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            let mounts = mountInfo.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(directory.path) ? String(fields[4]) : nil
            }
            for mount in mounts.sorted(by: { $0.count > $1.count }) { umount2(mount, Int32(MNT_DETACH)) }
            for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
                removeCgroupTree("/sys/fs/cgroup/" + hierarchy + cgroupParent)
            }
        }

        private func removeCgroupTree(_ path: String) {
            guard let children = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
            for child in children {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path + "/" + child, isDirectory: &isDirectory), isDirectory.boolValue {
                    removeCgroupTree(path + "/" + child)
                }
            }
            rmdir(path)
        }
    }

    /// `run --rm`: output and exit code; `-w /bin ./echo`; a directory as the command (126, "permission denied");
    /// `--privileged` (every host device, /dev/ptmx still the pts/ptmx link).
    @Test(.enabled(if: PodmanParityTests.canRun, "needs root, the busybox rootfs, runc, conmon and podman (make deps)"),
          arguments: RuntimeConformanceTests.runtimes)
    func podmanRunBehavesAlike(runtime: String) throws {
        let world = try Podman(runtime: runtime)
        defer { world.tearDown() }

        let plain = try world.run(["--rm"], command: ["/bin/sh", "-c", "echo hello; exit 3"])
        #expect(plain.status == 3, "\(runtime): \(plain)")
        #expect(plain.stdout == "hello\n", "\(runtime): \(plain)")

        let relative = try world.run(["--rm", "-w", "/bin"], command: ["./echo", "relative"])
        #expect(relative.status == 0, "\(runtime): \(relative)")
        #expect(relative.stdout == "relative\n", "\(runtime): \(relative)")

        let directory = try world.run(["--rm"], command: ["/etc"])
        #expect(directory.status == 126, "\(runtime): \(directory)")
        #expect(directory.stderr.contains("permission denied"), "\(runtime): \(directory)")

        let privileged = try world.run(["--rm", "--privileged"], command: ["/bin/sh", "-c", "test -c /dev/kmsg && echo kmsg; readlink /dev/ptmx"])
        #expect(privileged.status == 0, "\(runtime): \(privileged)")
        #expect(privileged.stdout == "kmsg\npts/ptmx\n", "\(runtime): \(privileged)")

        // -it under script(1): the process's stdin is a terminal (the console socket path through conmon).
        let interactive = try world.run(["--rm", "-it"], command: ["/bin/sh", "-c", "read line; test -t 0 && echo on-a-tty-$line; exit 4"],
                                        underScript: true)
        #expect(interactive.stdout.contains("on-a-tty-go"), "\(runtime): \(interactive)")
        #expect(interactive.status == 4, "\(runtime): \(interactive)")
    }

    /// `run -d`, then exec (with -w and a relative command), exec failures (126, 127), inspect's pid (the init's
    /// host pid), top, `run --pid container:ID`, pause/unpause, stop and rm.
    @Test(.enabled(if: PodmanParityTests.canRun, "needs root, the busybox rootfs, runc, conmon and podman (make deps)"),
          arguments: RuntimeConformanceTests.runtimes)
    func podmanDetachedContainerBehavesAlike(runtime: String) throws {
        let world = try Podman(runtime: runtime)
        defer { world.tearDown() }

        let started = try world.run(["-d"], command: ["/bin/sleep", "1000"])
        #expect(started.status == 0, "\(runtime): \(started)")
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard started.status == 0, !id.isEmpty else { return }

        let exec = try world.podman(["exec", id, "/bin/echo", "in-exec"])
        #expect(exec.status == 0 && exec.stdout == "in-exec\n", "\(runtime): \(exec)")
        let relative = try world.podman(["exec", "-w", "/bin", id, "./echo", "relative"])
        #expect(relative.status == 0 && relative.stdout == "relative\n", "\(runtime): \(relative)")
        let directory = try world.podman(["exec", id, "/etc"])
        #expect(directory.status == 126 && directory.stderr.contains("permission denied"), "\(runtime): \(directory)")
        let missing = try world.podman(["exec", id, "/no/such"])
        #expect(missing.status == 127, "\(runtime): \(missing)")

        let pid = try world.podman(["inspect", "--format", "{{.State.Pid}}", id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        #expect(status.contains("Name:\tsleep") && status.contains("NSpid:\t\(pid)\t1\n"), "\(runtime): pid \(pid): \(status)")

        let top = try world.podman(["top", id])
        #expect(top.status == 0 && top.stdout.contains("sleep 1000"), "\(runtime): \(top)")

        // --pid container:ID: the new container's PID 1 is the first one's sleep.
        let sharedPid = try world.run(["--rm", "--pid", "container:\(id)"], command: ["/bin/cat", "/proc/1/comm"])
        #expect(sharedPid.status == 0 && sharedPid.stdout == "sleep\n", "\(runtime): \(sharedPid)")

        #expect(try world.podman(["pause", id]).status == 0)
        #expect(try world.podman(["inspect", "--format", "{{.State.Status}}", id]).stdout == "paused\n")
        #expect(try world.podman(["unpause", id]).status == 0)
        #expect(try world.podman(["inspect", "--format", "{{.State.Status}}", id]).stdout == "running\n")

        let stop = try world.podman(["stop", "-t", "1", id])
        #expect(stop.status == 0, "\(runtime): \(stop)")
        #expect(try world.podman(["inspect", "--format", "{{.State.Status}}", id]).stdout == "exited\n")
        let removed = try world.podman(["rm", id])
        #expect(removed.status == 0, "\(runtime): \(removed)")
    }
}
