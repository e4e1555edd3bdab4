import Foundation
import Testing
import TetherTestSupport

/// Issue 13, items 4 and 5: a full disk under tetherd's `--root` fails `run` and `create` clearly (exit 125, the path
/// and the errno) and loses no container; a log that cannot be written drops bytes, counted and reported, and
/// resumes when space returns; tetherd killed at any step of run, create, start, stop or rm leaves every container
/// whole or wholly gone once it restarts. Nested in the faults suite, which is serialized: these tests mount, start and
/// kill many tetherds, and would otherwise run beside the faults suite's checks of mounts, sockets and timing.
extension DaemonFaultTests {
    @Suite("tetherd: full disk and crash points", .serialized)
    struct DaemonDiskTests {
        typealias DaemonFixture = DaemonTests.DaemonFixture
        typealias Fault = DaemonFaultTests

        static var rootfs: String { TestEnvironment.rootfs }

        /// Runs `body` with a 16 MB tmpfs mounted at a directory of its own, unmounted (lazily, so never refused) and
        /// removed afterwards whatever `body` did.
        static func withSmallTmpfs(_ body: (String) throws -> Void) throws {
            let directory = try TemporaryDirectory("tether-disk")
            let mountPoint = directory.path + "/root"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
            guard "size=16m,mode=0700".withCString({ mount("tmpfs", mountPoint, "tmpfs", 0, $0) }) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            defer { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
            try body(mountPoint)
        }

        /// Fills the file system of `directory` with one file (written until ENOSPC); returns its path.
        static func fill(_ directory: String) throws -> String {
            let path = directory + "/filler"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(.EIO) }
            defer { close(fd) }
            let chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            // The last few bytes a chunk did not fit.
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) > 0 {}
            return path
        }

        static func mountsUnder(_ path: String) -> Int {
            let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            return mountinfo.split(separator: "\n").filter { line in
                line.split(separator: " ").dropFirst(4).first.map { $0.hasPrefix(path + "/") } == true
            }.count
        }

        static func entries(_ directory: String) -> Set<String> {
            Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        }

        static func logDroppedBytes(_ daemon: DaemonFixture, _ name: String) throws -> Int {
            try daemon.inspect(name)["LogDroppedBytes"] as? Int ?? -1
        }

        @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
        func aFullDiskFailsClearlyLosesNoContainerCountsDroppedLogBytesAndRecovers() throws {
            try Self.withSmallTmpfs { root in
                let daemon = try DaemonFixture(root: root)
                let socket = daemon.socket
                // Containers made while there is space: one created, one that writes a line every few milliseconds.
                #expect(try daemon.ctl(["create", "--name", "kept", Self.rootfs, "/bin/true"]).status == 0)
                let talker = try daemon.ctl(["run", "-d", "--name", "talker", Self.rootfs, "/bin/sh", "-c",
                                             "i=0; while true; do i=$((i+1)); echo line $i; usleep 5000; done"])
                #expect(talker.status == 0, "\(talker)")
                let talkerID = talker.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let logPath = root + "/containers/\(talkerID)/container.log"
                #expect(waitUntil(timeout: 10) { ((try? FileManager.default.attributesOfItem(atPath: logPath)[.size]) as? Int ?? 0) > 0 })
                #expect(try Self.logDroppedBytes(daemon, "talker") == 0)
                let containersBefore = Self.entries(root + "/containers")
                let bundlesBefore = Self.entries(daemon.state + "/bundles")
                let shimsBefore = daemon.shims.count
                let mountsBefore = Self.mountsUnder(daemon.directory.path)

                let listener = TTRPCInteropTests.detachedResult {
                    try runCommand(TestEnvironment.binary("tetherctl"), ["events", "--socket", socket, "--until", "8"], timeout: 30)
                }
                usleep(500_000)
                let filler = try Self.fill(root)

                // Clear errors, exit 125, no id printed, nothing left behind.
                for arguments in [["run", "--rm", Self.rootfs, "/bin/echo", "lost"], ["run", "-d", Self.rootfs, "/bin/sleep", "1000"],
                                  ["create", Self.rootfs, "/bin/true"]] {
                    let result = try daemon.ctl(arguments)
                    #expect(result.status == 125, "\(arguments): \(result)")
                    #expect(result.stdout.isEmpty, "\(arguments): \(result)")
                    #expect(result.stderr.contains("record.json: no space left on device"), "\(arguments): \(result)")
                    #expect(result.stderr.hasPrefix("tetherctl: write \(root)/containers/"), "\(arguments): \(result)")
                }
                let settled = waitUntil(timeout: 10) {
                    Self.entries(root + "/containers") == containersBefore && Self.entries(daemon.state + "/bundles") == bundlesBefore
                        && daemon.shims.count == shimsBefore && Self.mountsUnder(daemon.directory.path) == mountsBefore
                }
                #expect(settled, "containers \(Self.entries(root + "/containers")) bundles \(Self.entries(daemon.state + "/bundles")) shims \(daemon.shims.count)/\(shimsBefore) mounts \(Self.mountsUnder(daemon.directory.path))/\(mountsBefore)")

                // The container whose log is full keeps running; its dropped bytes are counted, and said once.
                #expect(try waitUntil(timeout: 10) { try Self.logDroppedBytes(daemon, "talker") > 0 })
                #expect(Fault.state(try daemon.inspect("talker"))["Status"] as? String == "running")
                let events = try listener.get(timeout: 40)
                let drops = events.stdout.split(separator: "\n").filter { $0.contains("container log-dropped \(talkerID) (droppedBytes=") }
                #expect(drops.count == 1, "\(events)")

                // No record is lost: a restarted tetherd lists every container made before the disk filled.
                daemon.kill9()
                try daemon.start()
                let names = try daemon.ctl(["ps", "-a"]).stdout
                #expect(names.contains("kept") && names.contains("talker"), "\(names)")
                #expect(try daemon.ctl(["ps", "-a", "-q"]).stdout.split(separator: "\n").count == 2)

                // Space returns: the log grows again, and a run works.
                let sizeBefore = (try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
                try FileManager.default.removeItem(atPath: filler)
                let resumed = waitUntil(timeout: 10) {
                    ((try? FileManager.default.attributesOfItem(atPath: logPath)[.size]) as? Int ?? 0) > sizeBefore
                }
                #expect(resumed, "the log did not grow after space returned")
                let run = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/echo", "back"])
                #expect(run.status == 0 && run.stdout == "back\n", "\(run)")
                for name in ["kept", "talker"] { #expect(try daemon.ctl(["rm", "-f", name]).status == 0) }
                #expect(waitUntil(timeout: 10) { daemon.shims.count <= 1 && Self.mountsUnder(daemon.directory.path) == 0 })
                daemon.kill9()
                for pid in daemon.shims { kill(pid, SIGKILL) }
            }
        }

        // MARK: Crash points

        /// Every step of run, create, start, stop and rm at which `TETHER_CRASH_AT` makes tetherd exit (Daemon+CrashPoints).
        static let crashSteps = [
            "run:after-bundle", "run:after-task-created", "run:after-task-started", "run:after-record",
            "create:after-record",
            "start:after-bundle", "start:after-task-created", "start:after-task-started", "start:after-record",
            "stop:after-manual-stop", "stop:after-signal", "stop:after-exit",
            "rm:after-kill", "rm:after-exit", "rm:after-record-removed", "rm:after-task-deleted", "rm:after-shim-shutdown",
        ]

        /// The container's command: one line of output, then it runs until SIGTERM, which it exits 3 on.
        static let command = ["/bin/sh", "-c", "trap 'exit 3' TERM; echo out; while true; do sleep 1; done"]

        /// The cgroup directories of container `id` in every cgroup hierarchy mounted (v1 controllers and v2).
        static func cgroupDirectories(_ id: String) -> [String] {
            let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            return mountinfo.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count,
                      fields[separator + 1].hasPrefix("cgroup") else { return nil }
                return String(fields[4]) + "/tether/" + id
            }
        }

        /// What is left of container `id` outside tetherd's records: its shim, its rootfs mount, cgroups, directories.
        static func remains(_ daemon: DaemonFixture, _ id: String) -> [String] {
            var left: [String] = []
            if let shim = Fault.shimPid(daemon, id: id) { left.append("shim \(shim)") }
            let bundle = daemon.state + "/bundles/" + id
            if Fault.isMounted(bundle + "/rootfs") { left.append("mount \(bundle)/rootfs") }
            left += cgroupDirectories(id).filter { FileManager.default.fileExists(atPath: $0) }
            left += [bundle, daemon.root + "/containers/" + id].filter { FileManager.default.fileExists(atPath: $0) }
            return left
        }

        /// Why container `id` (listed by tetherd) is not whole, or nil when it is: running with its shim and init, or
        /// exited with the code `expectedExit` and its output in the log, or created and idle.
        static func wholeProblem(_ daemon: DaemonFixture, _ id: String, expectedExit: Int) throws -> String? {
            let document = try daemon.inspect(id)
            let state = Fault.state(document)
            switch state["Status"] as? String {
            case "running":
                let pid = Int32(state["Pid"] as? Int ?? 0)
                guard pid > 0, Fault.isAlive(pid), Fault.shimPid(daemon, id: id) != nil else { return "running without init or shim: \(document)" }
            case "exited":
                let log = (try? String(contentsOfFile: document["LogPath"] as? String ?? "", encoding: .utf8)) ?? ""
                guard state["ExitCode"] as? Int == expectedExit, log.contains("out") else { return "exited: \(state), log \(log)" }
            case "created":
                guard !Fault.isMounted(daemon.state + "/bundles/\(id)/rootfs"), Fault.shimPid(daemon, id: id) == nil else {
                    return "created, but mounted or with a shim"
                }
            default:
                return "status: \(state)"
            }
            return nil
        }

        @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"), arguments: crashSteps)
        func aTetherdKilledAtEveryStepLeavesEachContainerWholeOrWhollyGone(step: String) throws {
            let daemon = try DaemonFixture(environment: ["TETHER_CRASH_AT": step])
            let command = String(step.prefix { $0 != ":" })
            var ids: Set<String> = []
            // The container the step acts on, made before (without reaching the step).
            let name = "crash"
            switch command {
            case "start":
                let created = try daemon.ctl(["create", "--name", name, Self.rootfs] + Self.command)
                ids.insert(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            case "stop", "rm":
                let running = try daemon.ctl(["run", "-d", "--name", name, Self.rootfs] + Self.command)
                #expect(running.status == 0, "\(running)")
                ids.insert(running.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
                // Its output is in the log before it is stopped.
                #expect(try waitUntil(timeout: 10) {
                    let log = try daemon.inspect(name)["LogPath"] as? String ?? ""
                    return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("out")
                })
            default:
                break
            }
            let action: [String] = switch command {
            case "run": ["run", "-d", "--name", name, Self.rootfs] + Self.command
            case "create": ["create", "--name", name, Self.rootfs] + Self.command
            case "start": ["start", name]
            case "stop": ["stop", "-t", "30", name]
            default: ["rm", "-f", name]
            }
            let acted = try daemon.ctl(action)
            if acted.status == 0, let id = acted.stdout.split(separator: "\n").first, id.count == 32 { ids.insert(String(id)) }
            // tetherd dies at the step (for rm's last steps, after its reply).
            let process = try #require(daemon.process)
            #expect(waitUntil(timeout: 30) { !process.isRunning }, "tetherd did not reach \(step): \(acted)")
            #expect(process.terminationStatus == 137, "\(step): \(acted)")
            daemon.process = nil
            ids.formUnion(Self.entries(daemon.root + "/containers"))
            ids.formUnion(Self.entries(daemon.state + "/bundles"))

            daemon.environment = [:]
            try daemon.start()
            let expectedExit = command == "rm" ? 137 : 3
            for id in ids where !id.isEmpty {
                // Once tetherd has settled (a restart finishes removals and adopts tasks on its loop): whole or gone.
                var verdict = ""
                let settled = try waitUntil(timeout: 15) {
                    let listed = try daemon.ctl(["ps", "-a", "-q"]).stdout.split(separator: "\n").contains { id.hasPrefix($0) }
                    if listed {
                        verdict = try Self.wholeProblem(daemon, id, expectedExit: expectedExit) ?? "whole"
                    } else {
                        let left = Self.remains(daemon, id)
                        verdict = left.isEmpty ? "gone" : "not listed, but left: \(left)"
                    }
                    return verdict == "whole" || verdict == "gone"
                }
                #expect(settled, "\(step): container \(id): \(verdict)")
                if step.hasSuffix(":after-record") && command != "rm" { #expect(verdict == "whole", "\(step): \(id)") }
                if ["rm:after-record-removed", "rm:after-task-deleted", "rm:after-shim-shutdown"].contains(step) {
                    #expect(verdict == "gone", "\(step): \(id)")
                }
                guard verdict == "whole" else { continue }
                let removed = try daemon.ctl(["rm", "-f", id])
                #expect(removed.status == 0, "\(step): \(removed)")
                #expect(waitUntil(timeout: 15) { Self.remains(daemon, id).isEmpty }, "\(step): \(id): left \(Self.remains(daemon, id))")
            }
        }
    }
}
