import Testing
@testable import TetherShim

/// Where the OOM watch looks: the memory cgroup of a process from /proc/PID/cgroup and /proc/self/mountinfo.
@Suite("memory cgroup location")
struct MemoryCgroupTests {
    static let hybridMounts = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
        """

    @Test func hybridHostKeepsMemoryInV1() {
        let membership = "4:memory:/pods/c1\n2:cpu,cpuacct:/pods/c1\n0::/pods/c1\n"
        #expect(MemoryCgroup.locate(membership: membership, mountinfo: Self.hybridMounts)
            == MemoryCgroup(directory: "/sys/fs/cgroup/memory/pods/c1", isV2: false))
    }

    @Test func unifiedHost() {
        let mounts = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
        #expect(MemoryCgroup.locate(membership: "0::/system.slice/c1\n", mountinfo: mounts)
            == MemoryCgroup(directory: "/sys/fs/cgroup/system.slice/c1", isV2: true))
    }

    @Test func mountOfASubtree() {
        // A hierarchy mounted from a cgroup below its root (inside a container): the path is made relative to it.
        let mounts = "35 31 0:32 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        #expect(MemoryCgroup.locate(membership: "4:memory:/outer/c1\n", mountinfo: mounts)
            == MemoryCgroup(directory: "/sys/fs/cgroup/memory/c1", isV2: false))
        #expect(MemoryCgroup.locate(membership: "4:memory:/elsewhere/c1\n", mountinfo: mounts) == nil)
    }

    @Test func noMemoryController() {
        #expect(MemoryCgroup.locate(membership: "2:cpu,cpuacct:/c1\n", mountinfo: Self.hybridMounts) == nil)
    }

    @Test func answerRoundTrip() {
        let cgroup = MemoryCgroup(directory: "/sys/fs/cgroup/memory/c1", isV2: false)
        #expect(MemoryCgroup.decode(MemoryCgroup.encode(cgroup)[...]) == cgroup)
        #expect(MemoryCgroup.decode(MemoryCgroup.encode(nil)[...]) == nil)
        #expect(OneOffChild.int32(OneOffChild.bytes(of: -123_456)[...]) == -123_456)
    }
}
