import Foundation
import TetherTestSupport
import TetherSystem

/// An unprivileged user made for one test and removed with everything it ran: a `tetherrl…` account with its own
/// /etc/subuid and /etc/subgid ranges (useradd allocates them), a home and an XDG_RUNTIME_DIR (mode 0700) in a temp
/// dir, and the executables and the busybox rootfs copied where the user can read them (a clean clone may live in
/// a directory only root can enter). Commands run as the user through `setpriv --reuid --regid --init-groups`
/// with a clean environment.
final class RootlessUser {
    let name: String
    let uid: UInt32
    let gid: UInt32
    /// The user's first subordinate uid and gid and how many there are (from /etc/subuid and /etc/subgid).
    let subordinateUIDs: (start: UInt32, count: UInt32)
    let subordinateGIDs: (start: UInt32, count: UInt32)
    let directory: TemporaryDirectory
    var home: String { directory.path + "/home" }
    var runtimeDirectory: String { directory.path + "/xdg" }
    var binDirectory: String { directory.path + "/bin" }
    private var removed = false

    /// Whether this machine can run a rootless test: root to make the user, setpriv, useradd, the busybox rootfs.
    static var available: Bool {
        TestEnvironment.canRunContainers && ["/usr/bin/setpriv", "/usr/sbin/useradd", "/usr/sbin/userdel"].allSatisfy(TestEnvironment.hasCommand)
    }

    static var hasMappingTools: Bool {
        TestEnvironment.hasCommand("/usr/bin/newuidmap") && TestEnvironment.hasCommand("/usr/bin/newgidmap")
    }

    init() throws {
        directory = try TemporaryDirectory("tetherrl")
        chmod(directory.path, 0o755)
        name = "tetherrl\(getpid() % 100_000)r\(UInt16.random(in: 0..<UInt16.max))"
        // Another test may be adding a user at the same moment: useradd fails while /etc/passwd is locked.
        var added: CommandResult?
        for _ in 0..<50 {
            let result = try runCommand("/usr/sbin/useradd", ["-M", "-U", "-d", directory.path + "/home", "-s", "/bin/sh", name])
            added = result
            if result.status == 0 { break }
            usleep(100_000)
        }
        guard let added, added.status == 0 else {
            throw RootlessUserError("useradd \(name): \(String(describing: added))")
        }
        guard let entry = getpwnam(name) else { throw RootlessUserError("getpwnam \(name) after useradd") }
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
        var uids = RootlessUser.subordinateRange(name, file: "/etc/subuid")
        var gids = RootlessUser.subordinateRange(name, file: "/etc/subgid")
        if uids == nil || gids == nil {
            // useradd did not allocate ranges (SUB_UID_COUNT 0): give the user ones of its own.
            let start = 400_000_000 + UInt32(uid % 1000) * 65536
            _ = try runCommand("/usr/sbin/usermod", ["--add-subuids", "\(start)-\(start + 65535)", "--add-subgids", "\(start)-\(start + 65535)", name])
            uids = RootlessUser.subordinateRange(name, file: "/etc/subuid")
            gids = RootlessUser.subordinateRange(name, file: "/etc/subgid")
        }
        subordinateUIDs = uids ?? (0, 0)
        subordinateGIDs = gids ?? (0, 0)
        for (path, mode) in [(home, mode_t(0o755)), (runtimeDirectory, mode_t(0o700)), (binDirectory, mode_t(0o755))] {
            mkdir(path, mode)
            chown(path, uid, gid)
            chmod(path, mode)
        }
        if uids == nil || gids == nil {
            remove()
            throw RootlessUserError("no /etc/subuid or /etc/subgid range for \(name)")
        }
    }

    deinit { remove() }

    static func subordinateRange(_ name: String, file: String) -> (start: UInt32, count: UInt32)? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":")
            if fields.count == 3, fields[0] == name, let start = UInt32(fields[1]), let count = UInt32(fields[2]) {
                return (start, count)
            }
        }
        return nil
    }

    /// Copies an executable of the build into the user's bin directory (once); returns its path there.
    func install(_ executable: String) throws -> String {
        let target = binDirectory + "/" + executable
        if !FileManager.default.fileExists(atPath: target) {
            try FileManager.default.copyItem(atPath: TestEnvironment.binary(executable), toPath: target)
            chmod(target, 0o755)
        }
        return target
    }

    /// A copy of the busybox test rootfs at `path`, owned by the user (as an unpacked image would be).
    func copyRootfs(to path: String) throws {
        let result = try runCommand("/bin/cp", ["-a", TestEnvironment.rootfs, path])
        guard result.status == 0 else { throw RootlessUserError("cp rootfs: \(result)") }
        try chownTree(path)
    }

    func chownTree(_ path: String) throws {
        let result = try runCommand("/bin/chown", ["-R", "\(uid):\(gid)", path])
        guard result.status == 0 else { throw RootlessUserError("chown \(path): \(result)") }
    }

    var environment: [String] {
        ["HOME=\(home)", "USER=\(name)", "LOGNAME=\(name)", "XDG_RUNTIME_DIR=\(runtimeDirectory)",
         "PATH=\(binDirectory):/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]
    }

    private func commandLine(_ arguments: [String], environment extra: [String]) -> [String] {
        ["--reuid", String(uid), "--regid", String(gid), "--init-groups", "--", "/usr/bin/env", "-i"] + environment + extra + arguments
    }

    /// Runs `arguments` as the user in `directory` (its home by default), to completion.
    @discardableResult
    func run(_ arguments: [String], environment extra: [String] = [], in workingDirectory: String? = nil,
             timeout: TimeInterval = 60) throws -> CommandResult {
        let cd = workingDirectory ?? home
        return try runCommand("/usr/bin/setpriv", commandLine(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cd] + arguments, environment: extra),
                              timeout: timeout)
    }

    /// For commands that leave a process behind (create, run -d, a daemon): spawned without Foundation's Process (whose
    /// exit-notification descriptor the process left behind would hold), stdin /dev/null, output collected through a
    /// file that only the command writes.
    @discardableResult
    func runDetached(_ arguments: [String], environment extra: [String] = [], in workingDirectory: String? = nil) throws -> CommandResult {
        let log = directory.path + "/detached-\(UInt32.random(in: 0..<UInt32.max)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        chown(log, uid, gid)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let quoted = (["/usr/bin/setpriv"] + commandLine(arguments, environment: extra)).map { "'\($0)'" }.joined(separator: " ")
        let (result, _) = try TTRPCInteropTests.spawnAndWait(
            ["/bin/sh", "-c", "exec \(quoted) </dev/null >>'\(log)' 2>&1"], directory: workingDirectory ?? home,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return CommandResult(status: result.status, stdout: output, stderr: output)
    }

    /// Pids of every process running as the user or as one of its subordinate ids (its containers' other users).
    func processes() -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { return nil }
            guard !status.contains("State:\tZ") else { return nil }
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
                  let real = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap({ UInt32($0) }) else { return nil }
            let subordinate = real >= subordinateUIDs.start && real < subordinateUIDs.start &+ subordinateUIDs.count
            return real == uid || subordinate ? pid : nil
        }
    }

    /// Kills what the user left running, removes the account (and its subordinate ranges) and the temp dir.
    func remove() {
        guard !removed else { return }
        removed = true
        for _ in 0..<100 {
            let left = processes()
            if left.isEmpty { break }
            for pid in left { kill(pid, SIGKILL) }
            usleep(50_000)
        }
        // What the user's tools left in the shared temp directories (podman: /dev/shm/libpod_rootless_lock_UID).
        _ = try? runCommand("/usr/bin/find", ["/dev/shm", "/tmp", "/var/tmp", "-mindepth", "1", "-maxdepth", "1", "-uid", String(uid),
                                              "-exec", "rm", "-rf", "{}", "+"])
        for _ in 0..<50 {
            if let result = try? runCommand("/usr/sbin/userdel", ["-f", name]), result.status == 0 || result.status == 6 { break }
            usleep(100_000)
        }
        // Files the user's containers made as subordinate ids are removable by root like any other.
        _ = try? runCommand("/bin/rm", ["-rf", directory.path])
    }
}

struct RootlessUserError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
