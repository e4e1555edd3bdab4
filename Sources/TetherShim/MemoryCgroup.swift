import TetherSystem

/// Where a process's memory cgroup is, read from `/proc/PID/cgroup` and `/proc/self/mountinfo`: what the OOM
/// watch needs (`OOMNotifier(memoryDirectory:isV2:)`). The shim finds it in the one-off child that creates
/// the container (OneOffChild) and builds the notifier itself: asking the runtime library
/// (`Runtime.oomNotifier(id:)`) decodes the container's whole state record, whose Codable metadata and code
/// would then stay resident in the long-lived shim (about 140 kB of anonymous memory and 1 MB of mapped code).
/// A v1 memory controller wins over cgroup2 (a hybrid host keeps memory in v1), as in the runtime.
struct MemoryCgroup: Equatable {
    var directory: String
    var isV2: Bool

    /// `pid`'s memory cgroup; nil when it has none (no memory controller mounted).
    static func of(pid: Int32) -> MemoryCgroup? {
        guard let membership = try? FileIO.readText("/proc/\(pid)/cgroup"),
              let mounts = try? FileIO.readText("/proc/self/mountinfo") else { return nil }
        return locate(membership: membership, mountinfo: mounts)
    }

    /// The same from the two files' contents (split out for the tests).
    static func locate(membership: String, mountinfo: String) -> MemoryCgroup? {
        var v1Path: String?
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                v2Path = String(fields[2])
            } else if fields[1].split(separator: ",").contains("memory") {
                v1Path = String(fields[2])
            }
        }
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count > dash + 3 else { continue }
            let root = String(fields[3]), mountPoint = String(fields[4]), type = fields[dash + 1]
            if let path = v1Path, type == "cgroup", fields[dash + 3].split(separator: ",").contains("memory"),
               let directory = join(mountPoint, root, path) {
                return MemoryCgroup(directory: directory, isV2: false)
            }
        }
        guard let path = v2Path else { return nil }
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count > dash + 1,
                  fields[dash + 1] == "cgroup2", let directory = join(String(fields[4]), String(fields[3]), path) else { continue }
            return MemoryCgroup(directory: directory, isV2: true)
        }
        return nil
    }

    /// The directory of cgroup `path` in a hierarchy mounted at `mountPoint` whose mount shows `root`.
    private static func join(_ mountPoint: String, _ root: String, _ path: String) -> String? {
        if root == "/" { return path == "/" ? mountPoint : mountPoint + path }
        guard path == root || path.hasPrefix(root + "/") else { return nil }
        return mountPoint + path.dropFirst(root.count)
    }

    /// As OneOffChild carries it: a kind byte (0 none, 1 v1, 2 v2), then the directory.
    static func encode(_ cgroup: MemoryCgroup?) -> [UInt8] {
        guard let cgroup else { return [0] }
        return [cgroup.isV2 ? 2 : 1] + Array(cgroup.directory.utf8)
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> MemoryCgroup? {
        guard let kind = bytes.first, kind != 0 else { return nil }
        return MemoryCgroup(directory: String(decoding: bytes.dropFirst(), as: UTF8.self), isV2: kind == 2)
    }
}
