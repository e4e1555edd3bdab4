import Testing
@testable import TetherShim

/// The memory cgroup as the one-off child sends it back to the shim.
@Suite("memory cgroup answer")
struct MemoryCgroupTests {
    @Test func answerRoundTrip() {
        let cgroup = MemoryCgroup(directory: "/sys/fs/cgroup/memory/c1", isV2: false)
        #expect(MemoryCgroup.decode(MemoryCgroup.encode(cgroup)[...]) == cgroup)
        #expect(MemoryCgroup.decode(MemoryCgroup.encode(nil)[...]) == nil)
        #expect(OneOffChild.int32(OneOffChild.bytes(of: -123_456)[...]) == -123_456)
    }
}
