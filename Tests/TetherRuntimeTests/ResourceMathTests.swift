import OCISpec
import Testing
@testable import TetherRuntime

/// cgroup v2's conversions of the v1-shaped OCI values (runc's ConvertCPUSharesToCgroupV2Value and
/// ConvertBlkIOToIOWeightValue), and how an `update` merges into the resources state.json keeps.
@Suite("resource arithmetic")
struct ResourceMathTests {
    @Test("cpu.shares [2, 262144] maps linearly onto cpu.weight [1, 10000]; 0 means leave alone")
    func cpuWeight() {
        #expect(ControlGroupLimitsV2.weight(fromShares: 0) == 0)
        #expect(ControlGroupLimitsV2.weight(fromShares: 2) == 1)
        #expect(ControlGroupLimitsV2.weight(fromShares: 1024) == 39, "docker's default shares: runc writes 39")
        #expect(ControlGroupLimitsV2.weight(fromShares: 512) == 20)
        #expect(ControlGroupLimitsV2.weight(fromShares: 262_144) == 10_000)
    }

    @Test("cpu.shares outside the kernel's range are clamped before the conversion")
    func cpuWeightClamped() {
        #expect(ControlGroupLimitsV2.weight(fromShares: 1) == 1)
        #expect(ControlGroupLimitsV2.weight(fromShares: 1_000_000) == 10_000)
        #expect(ControlGroupLimitsV2.weight(fromShares: UInt64.max) == 10_000, "no overflow")
        var previous: UInt64 = 0
        for shares in stride(from: UInt64(2), through: 262_144, by: 1021) {
            let weight = ControlGroupLimitsV2.weight(fromShares: shares)
            #expect(weight >= previous && (1...10_000).contains(weight))
            previous = weight
        }
    }

    @Test("blkio weight [10, 1000] maps onto io.weight [1, 10000]")
    func ioWeight() {
        #expect(ControlGroupLimitsV2.ioWeight(fromBlkio: 0) == 0)
        #expect(ControlGroupLimitsV2.ioWeight(fromBlkio: 10) == 1)
        #expect(ControlGroupLimitsV2.ioWeight(fromBlkio: 500) == 4950)
        #expect(ControlGroupLimitsV2.ioWeight(fromBlkio: 1000) == 10_000)
        #expect(ControlGroupLimitsV2.ioWeight(fromBlkio: 5) == 1, "below the range: its bottom")
    }

    static var kept: Resources {
        var resources = Resources()
        var memory = Resources.Memory()
        memory.limit = 64 << 20
        memory.swap = 128 << 20
        memory.reservation = 32 << 20
        resources.memory = memory
        var cpu = Resources.CPU()
        cpu.shares = 512
        cpu.quota = 50_000
        cpu.period = 100_000
        cpu.cpus = "0"
        resources.cpu = cpu
        resources.pids = .init(limit: 100)
        resources.devices = [.init(allow: false, type: "a", access: "rwm")]
        resources.unified = ["memory.high": "max", "pids.max": "100"]
        return resources
    }

    @Test("an update replaces the members it gives and keeps the others")
    func mergeReplacesGivenMembers() {
        var update = Resources()
        var memory = Resources.Memory()
        memory.limit = 256 << 20
        update.memory = memory
        var cpu = Resources.CPU()
        cpu.quota = 20_000
        cpu.cpus = "0-1"
        update.cpu = cpu
        update.pids = .init(limit: 500)
        let merged = Self.kept.merging(update)
        #expect(merged.memory?.limit == 256 << 20)
        #expect(merged.memory?.swap == 128 << 20 && merged.memory?.reservation == 32 << 20)
        #expect(merged.cpu?.quota == 20_000 && merged.cpu?.cpus == "0-1")
        #expect(merged.cpu?.shares == 512 && merged.cpu?.period == 100_000)
        #expect(merged.pids?.limit == 500)
        #expect(merged.devices == Self.kept.devices && merged.unified == Self.kept.unified)
    }

    @Test("0, an empty cpuset and an absent section leave the kept value alone")
    func mergeKeepsLeaveAloneValues() {
        var update = Resources()
        var memory = Resources.Memory()
        memory.limit = 0
        update.memory = memory
        var cpu = Resources.CPU()
        cpu.shares = 0
        cpu.cpus = ""
        update.cpu = cpu
        update.pids = .init(limit: 0)
        #expect(Self.kept.merging(update) == Self.kept)
        #expect(Self.kept.merging(Resources()) == Self.kept)
        #expect(Resources().merging(Resources()) == Resources())
    }

    @Test("an unlimited memory without a swap value makes swap unlimited too (runc)")
    func unlimitedMemory() {
        var update = Resources()
        var memory = Resources.Memory()
        memory.limit = -1
        update.memory = memory
        #expect(Self.kept.merging(update).memory?.swap == -1)
        memory.swap = 512 << 20
        update.memory = memory
        #expect(Self.kept.merging(update).memory?.swap == 512 << 20)
    }

    @Test("lists and maps are replaced whole, not merged element by element")
    func mergeReplacesCollections() {
        var update = Resources()
        update.devices = [.init(allow: true, type: "c", major: 1, minor: 3, access: "rw")]
        update.unified = ["io.max": "8:0 rbps=1048576"]
        let merged = Self.kept.merging(update)
        #expect(merged.devices == update.devices)
        #expect(merged.unified == ["io.max": "8:0 rbps=1048576"])
        update.devices = []
        #expect(Self.kept.merging(update).devices == [], "an empty list given clears the rules")
    }

    @Test("a section the state did not have starts from empty")
    func mergeIntoEmpty() {
        var update = Resources()
        var blockIO = Resources.BlockIO()
        blockIO.weight = 300
        update.blockIO = blockIO
        #expect(Resources().merging(update).blockIO?.weight == 300)
        var none = Resources.BlockIO()
        none.weight = 0
        update.blockIO = none
        #expect(Resources().merging(update).blockIO == Resources.BlockIO())
    }
}
