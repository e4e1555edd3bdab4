import Testing
@testable import TetherRuntime

/// Where a container's cgroups go (runc's cgroupfs driver): the hierarchies found in mountinfo, the caller's own
/// cgroups from /proc/self/cgroup, and `linux.cgroupsPath` absolute, relative or absent.
@Suite("cgroup plan")
struct ControlGroupPlanTests {
    /// A hybrid host as this machine's: v1 controllers, a named systemd hierarchy, cgroup2 at .../unified, plus noise.
    static let hybridMountInfo = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
        24 23 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:3 - tmpfs tmpfs ro,mode=755
        25 24 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
        26 24 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,xattr,name=systemd
        27 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,cpu,cpuacct
        28 24 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,memory
        29 24 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:8 master:1 - cgroup cgroup rw,pids
        30 24 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpuset,clone_children
        31 22 0:26 /docker /mnt/memory\\040copy rw,relatime - cgroup cgroup rw,memory
        32 22 0:23 / /mnt/second-cgroup2 rw,relatime - cgroup2 cgroup2 rw
        33 22 0:29 / /proc rw,nosuid,nodev,noexec,relatime shared:10 - proc proc rw
        garbage line without a separator
        34 22 0:30 / /broken - cgroup
        """

    static let hierarchies = ControlGroupSet.hierarchies(mountInfo: Array(hybridMountInfo.utf8))

    @Test("mountinfo: one hierarchy per controller set, the first cgroup2, options and noise left out")
    func parsesMountInfo() {
        let found = Self.hierarchies
        #expect(found.map(\.key) == ["", "name=systemd", "cpu,cpuacct", "memory", "pids", "cpuset"])
        #expect(found.first == .init(key: "", mountPoint: "/sys/fs/cgroup/unified", mountRoot: "/", isV2: true))
        #expect(found.first { $0.key == "memory" }?.mountPoint == "/sys/fs/cgroup/memory",
                "a second mount of a controller set does not replace the first")
        #expect(found.filter(\.isV2).count == 1)
    }

    @Test("mountinfo: escaped mount points and roots are unescaped; the controller set is sorted")
    func unescapes() {
        let text = "40 22 0:26 /a\\040b /mnt/x\\011y\\134z rw - cgroup cgroup rw,cpuacct,cpu,noprefix\n"
        let found = ControlGroupSet.hierarchies(mountInfo: Array(text.utf8))
        #expect(found == [.init(key: "cpu,cpuacct", mountPoint: "/mnt/x\ty\\z", mountRoot: "/a b", isV2: false)])
        #expect(unescapeMountInfo("/no/escapes") == "/no/escapes")
        #expect(unescapeMountInfo("/trailing\\04") == "/trailing\\04", "an incomplete escape stays as it is")
        #expect(unescapeMountInfo("\\134") == "\\")
    }

    @Test("/proc/self/cgroup: controller sets sorted, the v2 line under \"\"")
    func parsesOwnCgroups() {
        let own = ControlGroupSet.ownCgroups(procCgroup: """
            12:cpuacct,cpu:/user.slice
            11:name=systemd:/user.slice/session-1.scope
            0::/init.scope
            bad line
            """)
        #expect(own == ["cpu,cpuacct": "/user.slice", "name=systemd": "/user.slice/session-1.scope", "": "/init.scope"])
    }

    static let own = ["cpu,cpuacct": "/user.slice", "memory": "/user.slice", "": "/init.scope", "name=systemd": "/user.slice",
                      "pids": "/", "cpuset": "/"]

    func plan(_ cgroupsPath: String?, id: String = "c1", hierarchies: [ControlGroupSet.Hierarchy] = hierarchies,
              own: [String: String] = own) -> [String: String] {
        ControlGroupSet.plan(cgroupsPath: cgroupsPath, id: id, hierarchies: hierarchies, own: own).paths
    }

    @Test("an absolute cgroupsPath goes under each hierarchy's root")
    func absolutePath() {
        let paths = plan("/tether/c1")
        #expect(paths["memory"] == "/sys/fs/cgroup/memory/tether/c1")
        #expect(paths["cpu,cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct/tether/c1")
        #expect(paths["unified"] == "/sys/fs/cgroup/unified/tether/c1")
        #expect(paths["name=systemd"] == "/sys/fs/cgroup/systemd/tether/c1")
        #expect(paths.count == 6)
    }

    @Test("a relative cgroupsPath goes under the caller's cgroup; none means <caller's cgroup>/<id>")
    func relativeAndDefault() {
        let relative = plan("pods/c1")
        #expect(relative["memory"] == "/sys/fs/cgroup/memory/user.slice/pods/c1")
        #expect(relative["unified"] == "/sys/fs/cgroup/unified/init.scope/pods/c1")
        #expect(relative["pids"] == "/sys/fs/cgroup/pids/pods/c1")
        for none in [nil, ""] as [String?] {
            let paths = plan(none, id: "abc")
            #expect(paths["memory"] == "/sys/fs/cgroup/memory/user.slice/abc")
            #expect(paths["cpuset"] == "/sys/fs/cgroup/cpuset/abc")
        }
        #expect(plan(nil, own: [:])["memory"] == "/sys/fs/cgroup/memory/c1", "a hierarchy the caller is not listed in: its root")
    }

    @Test("a mount exposing a subtree: the caller's path is made relative to the mount's root")
    func subtreeMount() {
        let hierarchies = [ControlGroupSet.Hierarchy(key: "memory", mountPoint: "/sys/fs/cgroup/memory", mountRoot: "/docker/abc", isV2: false)]
        let paths = plan(nil, id: "c1", hierarchies: hierarchies, own: ["memory": "/docker/abc/inner"])
        #expect(paths == ["memory": "/sys/fs/cgroup/memory/inner/c1"])
    }

    @Test("`..` in cgroupsPath climbs neither out of the hierarchy nor out of the caller's cgroup (runc's CleanPath)")
    func dotDotStaysInside() {
        #expect(plan("/../../../../tmp/evil")["memory"] == "/sys/fs/cgroup/memory/tmp/evil")
        #expect(plan("/a/../../b")["memory"] == "/sys/fs/cgroup/memory/b")
        #expect(plan("../../../etc")["memory"] == "/sys/fs/cgroup/memory/user.slice/etc")
        #expect(plan("./x/./y//z")["memory"] == "/sys/fs/cgroup/memory/user.slice/x/y/z")
        for path in plan("/../../x").values { #expect(path.hasPrefix("/sys/fs/cgroup/") && !path.contains("..")) }
    }

    @Test("hybrid hosts are driven through v1; a v2-only host through the unified directory")
    func unifiedOrNot() {
        let hybrid = ControlGroupSet.plan(cgroupsPath: "/t", id: "c", hierarchies: Self.hierarchies, own: [:])
        #expect(!hybrid.isUnified)
        #expect(hybrid.directory(for: "cpuacct") == "/sys/fs/cgroup/cpu,cpuacct/t")
        #expect(hybrid.directory(for: "hugetlb") == nil)
        #expect(hybrid.selfJoinableHierarchies == ["cpu,cpuacct", "cpuset", "memory", "name=systemd", "pids"])
        let v2 = ControlGroupSet.plan(cgroupsPath: "/t", id: "c", hierarchies: [
            .init(key: "", mountPoint: "/sys/fs/cgroup", mountRoot: "/", isV2: true),
            .init(key: "name=systemd", mountPoint: "/sys/fs/cgroup/systemd", mountRoot: "/", isV2: false),
        ], own: [:])
        #expect(v2.isUnified)
        #expect(v2.directory(for: "memory") == "/sys/fs/cgroup/t")
    }
}
