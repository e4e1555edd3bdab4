#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// What the runtime needs from cgroups. The cgroupfs manager (ControlGroupSet) implements it for v1, v2 and
/// hybrid hosts; a systemd manager could sit behind the same calls.
protocol ControlGroupManaging: Sendable {
    /// Creates the container's cgroup directories (idempotent); on v2 enables the controllers down the path.
    func create() throws
    /// Moves `pid` into every hierarchy it did not enter by itself (joinSelf) or through clone3.
    func addRemaining(pid: Int32, selfJoined: [String], placedByClone: Bool) throws
    /// Applies `linux.resources` at create: every field given, plus the device allow-list (runc's defaults
    /// even without `linux.resources.devices`).
    func apply(_ resources: Resources?) throws
    /// Applies a partial `linux.resources` (update): only the fields present are written.
    func update(_ resources: Resources) throws
    /// Pids in the container's cgroup and its sub-cgroups (from one hierarchy).
    func processes() -> [Int32]
    /// Whether the freezer says FROZEN (or FREEZING).
    func isFrozen() -> Bool
    /// Freezes or thaws, waiting until the kernel reports it done.
    func setFrozen(_ frozen: Bool) throws
    func thaw()
    /// Counters (runc's events stats).
    func stats() -> ContainerStats
    /// A watch on the memory cgroup's OOM events.
    func oomNotifier() throws -> OOMNotifier
    /// Removes the directories; retried briefly while the last tasks exit.
    func destroy() throws
}

/// The container's place in every mounted cgroup hierarchy (v1 controllers, named hierarchies, and cgroup2),
/// computed the way runc's cgroupfs driver does: `cgroupsPath` absolute → under each hierarchy's root;
/// relative → under the caller's cgroup; empty → `<caller's cgroup>/<id>`.
struct ControlGroupSet: ControlGroupManaging, Codable, Equatable {
    /// Hierarchy key (e.g. "memory", "cpu,cpuacct", "name=systemd", "unified") → absolute directory.
    var paths: [String: String]

    init(paths: [String: String]) {
        self.paths = paths
    }

    struct Hierarchy: Equatable {
        var key: String          // controllers as listed in /proc/self/cgroup ("" for cgroup2)
        var mountPoint: String
        var mountRoot: String
        var isV2: Bool
    }

    /// Cgroup hierarchies mounted in this mount namespace.
    static func hierarchies() -> [Hierarchy] {
        guard let bytes = try? FileIO.readFile("/proc/self/mountinfo") else { return [] }
        return hierarchies(mountInfo: bytes)
    }

    /// The cgroup hierarchies in a mountinfo table: the first cgroup2 mount, and the first mount of each set of v1
    /// controllers (or named hierarchy).
    static func hierarchies(mountInfo bytes: [UInt8]) -> [Hierarchy] {
        var result: [Hierarchy] = []
        // id parent major:minor root mount-point options [optional fields...] - fstype source super-options.
        // Bytes, split on single spaces (fields escape theirs as \040): a host has dozens of mounts and only the
        // cgroup ones become Strings (splitting Strings per Character was a measurable part of every create).
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard let dash = fields.firstIndex(where: { $0.count == 1 && $0.first == UInt8(ascii: "-") }), dash >= 5,
                  fields.count >= dash + 4 else { continue }
            let fsType = fields[dash + 1]
            let isV2 = fsType.elementsEqual("cgroup2".utf8)
            guard isV2 || fsType.elementsEqual("cgroup".utf8) else { continue }
            let mountPoint = unescapeMountInfo(String(decoding: fields[4], as: UTF8.self))
            let mountRoot = unescapeMountInfo(String(decoding: fields[3], as: UTF8.self))
            if isV2 {
                if result.contains(where: { $0.isV2 }) { continue }
                result.append(Hierarchy(key: "", mountPoint: mountPoint, mountRoot: mountRoot, isV2: true))
                continue
            }
            let options = String(decoding: fields[dash + 3], as: UTF8.self).split(separator: ",").map(String.init)
            let known = options.filter { $0 != "rw" && $0 != "ro" && !$0.hasPrefix("release_agent") && !$0.hasPrefix("clone_children") && $0 != "noprefix" && $0 != "xattr" && $0 != "nsdelegate" }
            let key = known.sorted().joined(separator: ",")
            if key.isEmpty || result.contains(where: { !$0.isV2 && $0.key == key }) { continue }
            result.append(Hierarchy(key: key, mountPoint: mountPoint, mountRoot: mountRoot, isV2: false))
        }
        return result
    }

    /// The caller's cgroup per hierarchy key ("" for cgroup2), from /proc/self/cgroup.
    static func ownCgroups() -> [String: String] {
        guard let text = try? FileIO.readText("/proc/self/cgroup") else { return [:] }
        return ownCgroups(procCgroup: text)
    }

    /// Hierarchy key → cgroup, from the lines of a /proc/PID/cgroup ("4:cpu,cpuacct:/user.slice", "0::/").
    static func ownCgroups(procCgroup text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let key = parts[1].split(separator: ",").map(String.init).sorted().joined(separator: ",")
            result[key] = String(parts[2])
        }
        return result
    }

    /// Plans the directories for a container; nothing is created yet.
    static func plan(cgroupsPath: String?, id: String, hierarchies: [Hierarchy] = hierarchies(),
                     own: [String: String] = ownCgroups()) -> ControlGroupSet {
        var paths: [String: String] = [:]
        for hierarchy in hierarchies {
            let caller = own[hierarchy.key] ?? "/"
            let inner: String
            if let cgroupsPath, !cgroupsPath.isEmpty {
                // Cleaned as a rooted path first, as runc's utils.CleanPath: no `..` climbs out of the hierarchy
                // (absolute) or out of the caller's cgroup (relative).
                if cgroupsPath.hasPrefix("/") {
                    inner = Runtime.normalize(cgroupsPath)
                } else {
                    inner = join(caller, Runtime.normalize(cgroupsPath))
                }
            } else {
                inner = join(caller, id)
            }
            // Paths in /proc/self/cgroup are relative to the hierarchy's root; the mount may expose a subtree.
            var relative = inner
            if hierarchy.mountRoot != "/", relative.hasPrefix(hierarchy.mountRoot) {
                relative = String(relative.dropFirst(hierarchy.mountRoot.count))
            }
            paths[hierarchy.isV2 ? "unified" : hierarchy.key] = join(hierarchy.mountPoint, relative)
        }
        return ControlGroupSet(paths: paths)
    }

    func create() throws {
        _ = try create(leavingOutDenied: false)
    }

    /// Creates the directories; with `leavingOutDenied` (rootless), a hierarchy whose directory the caller may not
    /// create or write (EACCES, EPERM, EROFS) is skipped instead of failing. Returns the skipped keys.
    func create(leavingOutDenied: Bool) throws -> [String] {
        var denied: [String] = []
        for key in paths.keys.sorted() {
            guard let path = paths[key] else { continue }
            do {
                if key == "unified" && isUnified { try enableControllers(down: path) }
                try FileIO.makeDirectories(path)
                if leavingOutDenied && access(path + "/cgroup.procs", W_OK) != 0 {
                    throw SyscallError("access \(path)/cgroup.procs", errno: errno)
                }
                if key.split(separator: ",").contains("cpuset") { try inheritCpuset(path) }
            } catch let error as SyscallError where leavingOutDenied && [EACCES, EPERM, EROFS].contains(error.errno) {
                denied.append(key)
            }
        }
        return denied
    }

    /// Whether the host is cgroup v2 only (no v1 controller hierarchy). A hybrid host (v1 controllers plus a
    /// cgroup2 mount holding few or no controllers) is driven through v1, as runc does.
    var isUnified: Bool {
        paths["unified"] != nil && paths.keys.allSatisfy { $0 == "unified" || $0.hasPrefix("name=") }
    }

    /// The directory of the hierarchy holding `controller` (v1), or the unified directory on a v2 host.
    func directory(for controller: String) -> String? {
        if isUnified { return paths["unified"] }
        guard let key = paths.keys.sorted().first(where: { $0.split(separator: ",").contains(Substring(controller)) }) else { return nil }
        return paths[key]
    }

    /// cgroup v2: a controller is usable in a cgroup only if every ancestor lists it in cgroup.subtree_control.
    /// Enables what the mount's root offers, ancestor by ancestor (one controller at a time, failures ignored,
    /// as runc does: a parent with processes of its own refuses).
    private func enableControllers(down path: String) throws {
        guard let mount = ControlGroupSet.hierarchies().first(where: { $0.isV2 })?.mountPoint, path.hasPrefix(mount) else { return }
        func enableAll(in directory: String) {
            for controller in (ControlGroupFile.read(directory, "cgroup.controllers") ?? "").split(separator: " ") {
                try? ControlGroupFile.write(directory, "cgroup.subtree_control", "+" + controller)
            }
        }
        var current = mount
        enableAll(in: current)
        for component in path.dropFirst(mount.count).split(separator: "/").dropLast() {
            current += "/" + component
            try FileIO.makeDirectories(current)
            enableAll(in: current)
        }
    }

    /// A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks: copy them down from the first
    /// ancestor that has them, parent first.
    private func inheritCpuset(_ path: String) throws {
        var chain: [String] = []
        var current = path
        while true {
            let cpus = (try? FileIO.readText(current + "/cpuset.cpus"))?.trimmingWhitespace() ?? ""
            if !cpus.isEmpty || !FileIO.exists(current + "/cpuset.cpus") { break }
            chain.append(current)
            guard let slash = current.lastIndex(of: "/"), slash != current.startIndex else { break }
            current = String(current[..<slash])
        }
        for dir in chain.reversed() {
            let parent = String(dir[..<(dir.lastIndex(of: "/") ?? dir.endIndex)])
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let value = (try? FileIO.readText(parent + "/" + file))?.trimmingWhitespace() ?? ""
                if !value.isEmpty { try FileIO.writeFile(dir + "/" + file, value, flags: O_WRONLY) }
            }
        }
    }

    /// Moves `pid` into the hierarchies named by `keys` (cgroup.procs).
    private func add(pid: Int32, hierarchies keys: [String]) throws {
        for key in keys.sorted() {
            guard let path = paths[key] else { continue }
            try FileIO.writeFile(path + "/cgroup.procs", "\(pid)", flags: O_WRONLY)
        }
    }

    /// The v1 hierarchies (and named ones) a new single-threaded process can join by itself, writing "0" into
    /// their `tasks` files. Moving the calling thread is the one migration for which the kernel does not
    /// write-lock cgroup_threadgroup_rwsem, and that lock waits for an RCU grace period on
    /// every first migration: a cgroup.procs write costs it, a self-move through `tasks` does not.
    var selfJoinableHierarchies: [String] {
        paths.keys.filter { $0 != "unified" }.sorted()
    }

    /// The v2 directory opened for clone3's CLONE_INTO_CGROUP (close-on-exec), or -1 without one; the caller closes it.
    func openUnifiedDirectory() -> Int32 {
        paths["unified"].flatMap { try? FileIO.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
    }

    /// Moves `pid` (cgroup.procs) into the hierarchies it did not enter by itself: neither through `selfJoined`
    /// nor, when `placedByClone`, the v2 one clone3 put it in.
    func addRemaining(pid: Int32, selfJoined: [String], placedByClone: Bool) throws {
        let joined = selfJoined + (placedByClone ? ["unified"] : [])
        try add(pid: pid, hierarchies: paths.keys.filter { !joined.contains($0) })
    }

    /// Joins the calling (single-threaded) process to `keys`'s hierarchies through their `tasks` files.
    func joinSelf(hierarchies keys: [String]) throws {
        for key in keys {
            guard let path = paths[key] else { continue }
            try FileIO.writeFile(path + "/tasks", "0", flags: O_WRONLY)
        }
    }

    func apply(_ resources: Resources?) throws {
        try apply(resources ?? Resources(), creating: true)
    }

    func update(_ resources: Resources) throws {
        try apply(resources, creating: false)
    }

    private func apply(_ resources: Resources, creating: Bool) throws {
        if isUnified, let directory = paths["unified"] {
            try ControlGroupLimitsV2(directory: directory).apply(resources)
        } else {
            try ControlGroupLimitsV1(cgroups: self).apply(resources, creating: creating)
        }
        // cgroup v2 has no devices files: the allow-list is an eBPF program on the container's v2 cgroup, attached
        // at create and replaced by an update with device rules (DeviceFilterProgram.attach, as runc). On a v2
        // host it is the enforcement (a failure fails create or update); on a hybrid host the v1 devices
        // controller enforces the same list and the program is a second, best-effort check.
        if creating || resources.devices != nil, let directory = paths["unified"] {
            let program = DeviceFilterProgram(rules: DeviceRules.effective(resources.devices ?? []))
            do {
                try program.attach(to: directory)
            } catch where !isUnified {
                // hybrid: v1 enforces
            }
        }
    }

    func processes() -> [Int32] {
        let preferred = ["freezer", "pids", "memory"]
        let directory = isUnified ? paths["unified"] : preferred.lazy.compactMap { self.directory(for: $0) }.first
        guard let directory = directory ?? paths.keys.sorted().first.flatMap({ paths[$0] }) else { return [] }
        return ControlGroupFile.allProcesses(directory)
    }

    /// v1 freezer hierarchy if there is one (hybrid hosts too), else cgroup v2's cgroup.freeze.
    var freezer: ControlGroupFreezer? {
        if !isUnified, let directory = directory(for: "freezer") { return ControlGroupFreezer(directory: directory, isV2: false) }
        if let directory = paths["unified"], ControlGroupFile.exists(directory, "cgroup.freeze") {
            return ControlGroupFreezer(directory: directory, isV2: true)
        }
        return nil
    }

    func isFrozen() -> Bool {
        freezer?.isFrozen ?? false
    }

    func setFrozen(_ frozen: Bool) throws {
        guard let freezer else {
            throw RuntimeError(.unsupported, "no freezer: neither a cgroup v1 freezer hierarchy nor cgroup.freeze (cgroup v2)", stage: frozen ? "pause" : "resume")
        }
        try freezer.set(frozen: frozen)
    }

    func thaw() {
        try? freezer?.set(frozen: false)
    }

    func oomNotifier() throws -> OOMNotifier {
        guard let memory = memoryCgroup else {
            throw RuntimeError(.unsupported, "no memory cgroup for the container", stage: "oom")
        }
        return try OOMNotifier(memoryDirectory: memory.directory, isV2: memory.isV2)
    }

    /// The memory controller's directory and whether it is cgroup v2 (what an OOM watch needs); nil without one.
    var memoryCgroup: (directory: String, isV2: Bool)? {
        directory(for: "memory").map { ($0, isUnified) }
    }

    func destroy() throws {
        var firstError: (any Error)?
        for key in paths.keys.sorted() {
            guard let path = paths[key], FileIO.isDirectory(path) else { continue }
            var attempts = 0
            while rmdir(path) != 0 {
                let code = errno
                if code == ENOENT { break }
                attempts += 1
                if code != EBUSY || attempts > 200 {
                    if firstError == nil { firstError = SyscallError("rmdir \(path)", errno: code) }
                    break
                }
                usleep(10_000)
            }
        }
        if let firstError { throw firstError }
    }

    private static func join(_ base: String, _ tail: String) -> String {
        var result = base.hasSuffix("/") ? String(base.dropLast()) : base
        for component in tail.split(separator: "/") where !component.isEmpty && component != "." {
            result += "/" + component
        }
        return result.isEmpty ? "/" : result
    }
}

/// mountinfo escapes space, tab, newline and backslash as \ooo (shared by the cgroup and rootfs parsers).
func unescapeMountInfo(_ text: String) -> String {
    guard text.contains("\\") else { return text }
    var bytes: [UInt8] = []
    let source = Array(text.utf8)
    var index = 0
    while index < source.count {
        if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
           let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
            bytes.append(value)
            index += 4
        } else {
            bytes.append(source[index])
            index += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
