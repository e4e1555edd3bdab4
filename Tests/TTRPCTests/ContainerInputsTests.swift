import TetherAPI
import Testing

@Suite("container names and run inputs")
struct ContainerInputsTests {
    @Test("docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters")
    func names() {
        for good in ["a", "web", "web-1.example_2", "0", String(repeating: "n", count: 128)] {
            #expect(ContainerName.problem(good) == nil, "\(good)")
        }
        for bad in ["", ".x", "-x", "_x", "a/b", "a b", "a\nb", "é", String(repeating: "n", count: 129), "a:b"] {
            #expect(ContainerName.problem(bad) != nil, "\(bad)")
        }
        #expect(ContainerName.problem("a/b")?.contains(ContainerName.rule) == true)
        #expect(ContainerName.problem("a\nb")?.contains("\n") == false)
    }

    @Test("ROOTFS must be absolute and usable as an overlay lower layer; --cpus within the host's CPUs")
    func rootfsAndCPUs() {
        #expect(ContainerInputs.rootfsProblem("/srv/rootfs") == nil)
        for bad in ["", "rootfs", "./rootfs", "/a,upperdir=/etc", "/a:/b", "/a\\,b", "/a\nb"] {
            #expect(ContainerInputs.rootfsProblem(bad)?.hasPrefix("ROOTFS") == true, "\(bad)")
        }
        #expect(ContainerInputs.cpusProblem(nanoCPUs: 0, hostCPUs: 2) == nil)
        #expect(ContainerInputs.cpusProblem(nanoCPUs: 2_000_000_000, hostCPUs: 2) == nil)
        #expect(ContainerInputs.cpusProblem(nanoCPUs: 2_000_000_001, hostCPUs: 2)
                == "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available")
        #expect(ContainerInputs.cpusProblem(nanoCPUs: 9_999_999, hostCPUs: 2) != nil)
    }
}
