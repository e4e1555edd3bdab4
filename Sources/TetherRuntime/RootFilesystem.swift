#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// Builds the container's root filesystem inside the (new) mount namespace, following runc's order:
/// make / rslave (or rootfsPropagation), bind the rootfs, the config's mounts, /dev, pivot_root (or MS_MOVE + chroot).
struct RootFilesystem {
    let spec: Spec
    let rootfs: String
    let newUserNamespace: Bool
    let hasCgroupNamespace: Bool
    let cgroupPaths: [String: String]
    let cgroupHierarchies: [ControlGroupSet.Hierarchy]
    /// false when linux.namespaces has no mount entry: the container shares the caller's mount namespace and is
    /// entered with chroot, as runc does (its mounts are made in that namespace).
    var hasMountNamespace = true
    /// Mounted on the rootfs first (CreateOptions.rootfsMounts).
    var rootfsMounts: [Mount] = []

    func prepare() throws(InitFailure) {
        try step("rootfs propagation") {
            // runc's prepareRoot: rslave unless the config says otherwise, so host unmounts (a removed volume)
            // reach the container and nothing the container mounts reaches the host.
            var flags = MountFlag.slave | MountFlag.recursive
            if let propagation = spec.linux?.rootfsPropagation, let flag = MountOptions.propagation(named: propagation) {
                flags = flag
            }
            try check(mount("", "/", nil, flags, nil), "mount / propagation")
            // runc's rootfsParentMountPrivate: with / shared (rootfsPropagation shared or rshared), pivot_root
            // refuses a rootfs whose parent mount is shared, and the rootfs's bind mount would propagate out.
            try makeParentMountPrivateIfShared()
        }
        for (index, entry) in rootfsMounts.enumerated() {
            try step("rootfs mounts[\(index)] \(entry.type ?? "")") {
                let options = MountOptions(entry.options ?? [])
                let data = options.dataString
                try check(mount(entry.source ?? "none", rootfs, entry.type ?? "none", options.flags, data.isEmpty ? nil : data),
                          "mount \(entry.type ?? "") on \(rootfs)")
            }
        }
        try step("bind rootfs") {
            try check(mount(rootfs, rootfs, "bind", MountFlag.bind | MountFlag.recursive, nil), "bind mount \(rootfs)")
        }
        for (index, entry) in (spec.mounts ?? []).enumerated() {
            try step("mounts[\(index)] \(entry.destination)") { try mountEntry(entry) }
        }
        let devIsBound = (spec.mounts ?? []).contains {
            $0.destination == "/dev" && ($0.type == "bind" || ($0.options ?? []).contains { $0 == "bind" || $0 == "rbind" })
        }
        // As runc's prepareRootfs: with /dev bound from elsewhere, no device node is made at all.
        if !devIsBound {
            try step("default devices") { try createDevices() }
            try step("dev symlinks") { try createDevSymlinks() }
            // linux.devices may name a device runc also creates by default: it replaces it. /dev/ptmx stays the
            // pts/ptmx link (runc's createDevices skips it and setupPtmx makes the link): privileged managers
            // (podman --privileged, containerd's CRI) list every host device, /dev/ptmx included.
            for (index, device) in (spec.linux?.devices ?? []).enumerated()
            where RootFilesystem.lexicallyCleaned(device.path) != "/dev/ptmx" {
                try step("linux.devices[\(index)] \(device.path)") { try createDevice(device) }
            }
        }
    }

    /// runc's utils.CleanPath for an absolute path: `.`, `..` and repeated slashes removed, lexically.
    static func lexicallyCleaned(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The mount `rootfs` is on (the longest mount point that is the rootfs or one of its parents, the topmost
    /// of those stacked there) made private when it is shared.
    func makeParentMountPrivateIfShared() throws {
        let text = try FileIO.readText("/proc/self/mountinfo")
        var parent: (mountPoint: String, shared: Bool)? = nil
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 6 else { continue }
            let mountPoint = unescapeMountInfo(String(fields[4]))
            let isParent = mountPoint == "/" || rootfs == mountPoint || rootfs.hasPrefix(mountPoint + "/")
            guard isParent, mountPoint.utf8.count >= (parent?.mountPoint.utf8.count ?? 0) else { continue }
            let optional = fields[6...].prefix { $0 != "-" }
            parent = (mountPoint, optional.contains { $0.hasPrefix("shared:") })
        }
        guard let parent else { throw SyscallError("find the mount of \(rootfs) in /proc/self/mountinfo", errno: ENOENT) }
        if parent.shared {
            try check(mount("", parent.mountPoint, nil, MountFlag.private, nil), "make \(parent.mountPoint) private")
        }
    }

    // MARK: mounts

    func mountEntry(_ entry: Mount) throws {
        let options = MountOptions(entry.options ?? [])
        let type = entry.type ?? ""
        let isBind = type == "bind" || options.flags & MountFlag.bind != 0
        let target = try resolveInRoot(entry.destination)
        if isBind {
            let source = entry.source ?? ""
            var info = stat()
            try check(stat(source, &info), "stat \(source)")
            try createMountPoint(target, directory: (info.st_mode & S_IFMT) == S_IFDIR)
            try check(mount(source, target, "bind", MountFlag.bind | (options.flags & MountFlag.recursive), nil),
                      "bind mount \(source) on \(entry.destination)")
            let extra = options.flags & ~(MountFlag.bind | MountFlag.recursive | MountFlag.remount)
            if extra != 0 {
                try remountBind(target, flags: extra, display: entry.destination)
            }
        } else if type == "cgroup" {
            try mountCgroups(target, entry: entry, options: options)
        } else {
            try createMountPoint(target, directory: true)
            let data = options.dataString
            let result = mount(entry.source ?? type, target, type, options.flags, data.isEmpty ? nil : data)
            if result != 0 {
                let code = errno
                // sysfs cannot be mounted without owning the network namespace: bind the host's, as runc does.
                if type == "sysfs", code == EPERM || code == EBUSY {
                    try check(mount("/sys", target, "bind", MountFlag.bind | MountFlag.recursive, nil), "bind mount /sys")
                    if options.flags & MountFlag.readOnly != 0 {
                        try remountBind(target, flags: options.flags, display: entry.destination)
                    }
                } else {
                    throw SyscallError("mount \(type) on \(entry.destination)", errno: code)
                }
            }
        }
        for flag in options.propagation {
            try check(mount("", target, nil, flag, nil), "set propagation of \(entry.destination)")
        }
    }

    /// Remounts a bind mount with `flags`, keeping the locked flags (nosuid, nodev, noexec, atime) it already has.
    func remountBind(_ target: String, flags: UInt, display: String) throws {
        var info = statvfs()
        try check(statvfs(target, &info), "statvfs \(display)")
        let locked = UInt(info.f_flag) & (MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec | MountFlag.noAtime
            | MountFlag.noDirAtime | MountFlag.relatime)
        try check(mount("", target, nil, MountFlag.remount | MountFlag.bind | locked | (flags & ~MountFlag.propagationMask), nil),
                  "remount \(display)")
    }

    /// cgroup mounts: with a cgroup namespace, a tmpfs holding one fresh mount per hierarchy (each shows the
    /// container's own cgroup as its root); without one, bind mounts of the container's cgroup directories.
    func mountCgroups(_ target: String, entry: Mount, options: MountOptions) throws {
        try createMountPoint(target, directory: true)
        if let unified = cgroupHierarchies.first, cgroupHierarchies.count == 1, unified.isV2 {
            try mountUnifiedCgroup(target, entry: entry, options: options)
            return
        }
        let baseFlags = options.flags & ~MountFlag.readOnly
        try check(mount("tmpfs", target, "tmpfs", baseFlags, "mode=755"), "mount tmpfs on \(entry.destination)")
        for hierarchy in cgroupHierarchies {
            let name = hierarchy.isV2 ? "unified" : String(hierarchy.mountPoint.split(separator: "/").last ?? "")
            if name.isEmpty { continue }
            let dir = target + "/" + name
            try check(mkdir(dir, 0o755), "mkdir \(entry.destination)/\(name)")
            if hasCgroupNamespace {
                let type = hierarchy.isV2 ? "cgroup2" : "cgroup"
                let data = hierarchy.isV2 ? nil : hierarchy.key
                try check(mount("cgroup", dir, type, options.flags, data), "mount cgroup \(name)")
            } else {
                let key = hierarchy.isV2 ? "unified" : hierarchy.key
                guard let source = cgroupPaths[key] ?? ownCgroupDirectory(hierarchy) else { continue }
                try check(mount(source, dir, "bind", MountFlag.bind, nil), "bind cgroup \(name)")
                if options.flags & MountFlag.readOnly != 0 {
                    try remountBind(dir, flags: options.flags, display: "\(entry.destination)/\(name)")
                }
            }
        }
        if options.flags & MountFlag.readOnly != 0 {
            try check(mount("", target, nil, MountFlag.remount | options.flags, "mode=755"), "remount \(entry.destination) read-only")
        }
    }

    /// A cgroup v2-only host: the unified hierarchy itself at the mount's destination, as runc's mountCgroupV2 — the
    /// container's own cgroup as the root of a cgroup namespace, else a bind mount of the container's cgroup.
    private func mountUnifiedCgroup(_ target: String, entry: Mount, options: MountOptions) throws {
        if hasCgroupNamespace {
            try check(mount("cgroup", target, "cgroup2", options.flags, nil), "mount cgroup2 on \(entry.destination)")
            return
        }
        guard let source = cgroupPaths["unified"] ?? cgroupHierarchies.first.flatMap(ownCgroupDirectory) else { return }
        try check(mount(source, target, "bind", MountFlag.bind, nil), "bind cgroup2 on \(entry.destination)")
        if options.flags & MountFlag.readOnly != 0 { try remountBind(target, flags: options.flags, display: entry.destination) }
    }

    /// The init's own cgroup directory in `hierarchy`: what a rootless container whose cgroup could not be created
    /// (left out, see Rootless) sees at /sys/fs/cgroup, as runc binds the process's current cgroup.
    private func ownCgroupDirectory(_ hierarchy: ControlGroupSet.Hierarchy) -> String? {
        guard let own = ControlGroupSet.ownCgroups()[hierarchy.key] else { return nil }
        var relative = own
        if hierarchy.mountRoot != "/", relative.hasPrefix(hierarchy.mountRoot) { relative = String(relative.dropFirst(hierarchy.mountRoot.count)) }
        let path = hierarchy.mountPoint + (relative == "/" ? "" : relative)
        return FileIO.isDirectory(path) ? path : nil
    }

    func createMountPoint(_ path: String, directory: Bool) throws {
        var info = stat()
        if stat(path, &info) == 0 { return }
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        if !parent.isEmpty { try FileIO.makeDirectories(parent) }
        if directory {
            try FileIO.makeDirectories(path)
        } else {
            let fd = try FileIO.open(path, O_CREAT | O_WRONLY, mode: 0o644)
            FileIO.close(fd)
        }
    }

    /// `path` inside the rootfs with every symlink resolved inside it too (a symlink never escapes the rootfs).
    func resolveInRoot(_ path: String) throws -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = rootfs + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            if lstat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                if links > 255 { throw SyscallError("resolve \(path)", errno: ELOOP) }
                var buffer = [CChar](repeating: 0, count: 4097)
                let n = readlink(candidate, &buffer, 4096)
                if n < 0 { throw SyscallError.current("readlink \(candidate)") }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return rootfs + "/" + resolved.joined(separator: "/")
    }

    // MARK: devices

    static let defaultDevices: [Linux.Device] = [
        Linux.Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Linux.Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Linux.Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Linux.Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Linux.Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Linux.Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    func createDevices() throws {
        let mask = umask(0)
        defer { umask(mask) }
        for device in RootFilesystem.defaultDevices { try createDevice(device) }
    }

    /// A device node replaces whatever is at its path, and a symlink there is never followed: only the
    /// directories leading to it are resolved (inside the rootfs).
    func createDevice(_ device: Linux.Device) throws {
        let cleaned = RootFilesystem.lexicallyCleaned(device.path)
        guard let slash = cleaned.lastIndex(of: "/"), cleaned != "/" else {
            throw SyscallError("device path \(device.path): not a file path", errno: EINVAL)
        }
        let target = try resolveInRoot(String(cleaned[..<slash])) + "/" + cleaned[cleaned.index(after: slash)...]
        let parent = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
        try FileIO.makeDirectories(parent)
        _ = unlink(target)
        // mknod is not allowed in a user namespace (a new one, or the one a rootless podman runs us in): bind the
        // host's node instead, as runc does there and whenever mknod says EPERM.
        func bindHostNode() throws {
            let fd = try FileIO.open(target, O_CREAT | O_WRONLY, mode: 0o644)
            FileIO.close(fd)
            try check(mount(device.path, target, "bind", MountFlag.bind, nil), "bind device \(device.path)")
        }
        if newUserNamespace || RootFilesystem.runningInUserNamespace {
            try bindHostNode()
            return
        }
        var kind: mode_t
        switch device.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let permissions = mode_t(device.fileMode ?? 0o666) & 0o7777
        let number = tether_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        if mknod(target, kind | permissions, number) != 0 {
            if errno == EPERM {
                try bindHostNode()
                return
            }
            throw SyscallError.current("mknod \(device.path)")
        }
        try check(chmod(target, permissions), "chmod \(device.path)")
        try check(chown(target, device.uid ?? 0, device.gid ?? 0), "chown \(device.path)")
    }

    /// Read once per init (a file read): whether the runtime itself runs in a user namespace.
    static let runningInUserNamespace = UserDirectories.inUserNamespace

    func createDevSymlinks() throws {
        var links: [(String, String)] = [
            ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("/proc/self/fd/1", "/dev/stdout"),
            ("/proc/self/fd/2", "/dev/stderr"),
        ]
        if FileIO.exists("/proc/kcore") { links.append(("/proc/kcore", "/dev/core")) }
        for (target, link) in links {
            let path = rootfs + link
            if symlink(target, path) != 0 && errno != EEXIST { throw SyscallError.current("symlink \(link)") }
        }
        let ptmx = rootfs + "/dev/ptmx"
        _ = unlink(ptmx)
        try check(symlink("pts/ptmx", ptmx), "symlink /dev/ptmx")
    }

    // MARK: pivot

    /// pivot_root into the rootfs and detach the old root (runc's pivot_root(".", ".") trick), or with
    /// `noPivot` move the rootfs onto / and chroot.
    func enter(noPivot: Bool) throws(InitFailure) {
        if !noPivot && !hasMountNamespace {
            // runc's chroot(): pivot_root would change the root of every process in the caller's namespace.
            try step("chroot") {
                try check(chdir(rootfs), "chdir \(rootfs)")
                try check(chroot("."), "chroot")
                try check(chdir("/"), "chdir /")
            }
            return
        }
        if noPivot {
            try step("move rootfs") {
                try check(chdir(rootfs), "chdir \(rootfs)")
                try check(mount(rootfs, "/", nil, MountFlag.move, nil), "move mount \(rootfs)")
                try check(chroot("."), "chroot")
                try check(chdir("/"), "chdir /")
            }
            return
        }
        try step("pivot_root") {
            let oldRoot = try FileIO.open("/", O_DIRECTORY | O_RDONLY)
            defer { FileIO.close(oldRoot) }
            let newRoot = try FileIO.open(rootfs, O_DIRECTORY | O_RDONLY)
            defer { FileIO.close(newRoot) }
            try check(fchdir(newRoot), "fchdir rootfs")
            try check(tether_pivot_root(".", "."), "pivot_root \(rootfs)")
            try check(fchdir(oldRoot), "fchdir old root")
            // Keep unmount events of the old root from propagating to the host.
            try check(mount("", ".", nil, MountFlag.slave | MountFlag.recursive, nil), "make old root rslave")
            try check(umount2(".", MountFlag.detach), "unmount old root")
            try check(chdir("/"), "chdir /")
        }
    }

    // MARK: after pivot

    func finish() throws(InitFailure) {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            try step("sysctl \(key)") {
                let path = "/proc/sys/" + key.replacingDots()
                try FileIO.writeFile(path, value, flags: O_WRONLY | O_TRUNC)
            }
        }
        for path in spec.linux?.readonlyPaths ?? [] {
            try step("readonlyPaths \(path)") {
                if mount(path, path, nil, MountFlag.bind | MountFlag.recursive, nil) != 0 {
                    if errno == ENOENT { return }
                    throw SyscallError.current("bind mount \(path)")
                }
                try remountBind(path, flags: MountFlag.readOnly | MountFlag.recursive, display: path)
            }
        }
        for path in spec.linux?.maskedPaths ?? [] {
            try step("maskedPaths \(path)") {
                var info = stat()
                if stat(path, &info) != 0 {
                    if errno == ENOENT { return }
                    throw SyscallError.current("stat \(path)")
                }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    try check(mount("tmpfs", path, "tmpfs", MountFlag.readOnly, nil), "mask \(path)")
                } else {
                    try check(mount("/dev/null", path, nil, MountFlag.bind, nil), "mask \(path)")
                }
            }
        }
        // runc's finalizeRootfs (which makes the root read-only) runs only in a mount namespace of the container's.
        if spec.root?.readonly == true && hasMountNamespace {
            try step("readonly root") { try remountBind("/", flags: MountFlag.readOnly, display: "/") }
        }
    }
}

extension String {
    /// sysctl names use dots; /proc/sys uses slashes (a name may also be given with slashes already).
    func replacingDots() -> String {
        String(map { $0 == "." ? "/" : $0 })
    }
}
