import FoundationEssentials
import OCISpec
import Testing
import TTRPC
@testable import TetherDaemon

/// The config.json tetherd writes for a container: docker's defaults, the limits asked for, and bytes that read back
/// as the same Spec both through Codable and through the runtime's own reader.
@Suite("bundle config.json")
struct BundleWriterTests {
    static func record(_ change: (inout ContainerSettings) -> Void = { _ in }) -> ContainerRecord {
        var record = ContainerRecord(id: "0123456789abcdef0123456789abcdef", name: "c", rootfs: "/srv/rootfs", args: ["sh"],
                                     env: ["A=1"], cwd: "", hostname: "", readOnly: false, network: "none", remove: false,
                                     restart: .no)
        change(&record.settings)
        return record
    }

    @Test func aPlainContainerGetsDockersDefaults() throws {
        let spec = try BundleWriter.spec(for: Self.record())
        let process = try #require(spec.process)
        #expect(process.args == ["sh"] && process.cwd == "/" && process.user == .init(uid: 0, gid: 0))
        #expect(process.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"])
        #expect(process.terminal == false && process.consoleSize == nil && process.noNewPrivileges == nil)
        #expect(process.capabilities?.bounding == OCISpec.Process.Capabilities.knownNames.filter {
            SecurityProfile.dockerCapabilities.contains($0) && SecurityProfile.available.contains($0)
        })
        #expect(process.rlimits == [.init(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        #expect(spec.hostname == "0123456789ab" && spec.root == Root(path: "rootfs", readonly: false))
        let linux = try #require(spec.linux)
        let types = linux.namespaces?.map(\.type) ?? []
        #expect(Set(types).isSuperset(of: [.pid, .ipc, .uts, .mount, .network]))
        #expect(linux.cgroupsPath == "/tether/0123456789abcdef0123456789abcdef")
        #expect(linux.maskedPaths == Linux.runcMaskedPaths && linux.readonlyPaths == Linux.runcReadonlyPaths)
        #expect(linux.resources == nil && linux.seccomp?.syscalls?.isEmpty == false)
        #expect(spec.mounts == Mount.runcDefaults)
    }

    @Test func privilegedDropsTheMasksAndSeccompAndKeepsEveryAvailableCapability() throws {
        let spec = try BundleWriter.spec(for: Self.record { $0.privileged = true })
        #expect(spec.linux?.maskedPaths == nil && spec.linux?.readonlyPaths == nil && spec.linux?.seccomp == nil)
        #expect(Set(spec.process?.capabilities?.bounding ?? []) == SecurityProfile.available)
    }

    @Test func limitsBecomeResources() throws {
        let spec = try BundleWriter.spec(for: Self.record {
            $0.memoryBytes = 64 << 20
            $0.nanoCPUs = 1_500_000_000
            $0.pidsLimit = 20
        })
        let resources = try #require(spec.linux?.resources)
        #expect(resources.memory?.limit == 64 << 20)
        #expect(resources.cpu?.quota == 150_000 && resources.cpu?.period == 100_000)
        #expect(resources.pids == .init(limit: 20))
    }

    @Test func aJoinedPidNamespaceAndTheHostsOnes() throws {
        let joined = try BundleWriter.spec(for: Self.record { $0.pid = "container:db" }, pidNamespacePath: "/proc/7/ns/pid")
        #expect(joined.linux?.namespaces?.first == .init(type: .pid, path: "/proc/7/ns/pid"))
        let host = try BundleWriter.spec(for: Self.record { $0.pid = "host" })
        #expect(host.linux?.namespaces?.contains { $0.type == .pid } == false)
    }

    @Test(arguments: [Self.record(), Self.record { $0.privileged = true; $0.tty = true; $0.consoleSize = .init(height: 5, width: 7) }])
    func configJSONReadsBackAsTheSpec(_ record: ContainerRecord) throws {
        let spec = try BundleWriter.spec(for: record)
        let bytes = BundleWriter.configJSON(spec)
        #expect(try JSONDecoder().decode(Spec.self, from: Data(bytes)) == spec)
        #expect(try Spec.decode(bytes) == spec)
    }

    @Test func aUserIsNumeric() throws {
        #expect(try BundleWriter.processUser("") == .init(uid: 0, gid: 0))
        #expect(try BundleWriter.processUser("1000") == .init(uid: 1000, gid: 1000))
        #expect(try BundleWriter.processUser("1000:5") == .init(uid: 1000, gid: 5))
        for text in ["root", "1000:", ":5", "-1", "1:2:3", "4294967296"] {
            let error = #expect(throws: TTRPCStatus.self, "\(text)") { try BundleWriter.processUser(text) }
            #expect(error?.message == "--user \(text): expected UID[:GID] (numbers)")
        }
    }
}

/// The default seccomp profile, built directly as OCISpec values: docker's shape, valid as linux.seccomp.
@Suite("default seccomp profile")
struct DefaultSeccompProfileTests {
    @Test func withoutSysAdminNamespacesCannotBeMade() throws {
        let profile = DefaultSeccompProfile.profile(capabilities: Set(SecurityProfile.dockerCapabilities))
        #expect(profile.defaultAction == "SCMP_ACT_ERRNO" && profile.defaultErrnoRet == 1)
        #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        let rules = try #require(profile.syscalls)
        #expect(rules.first?.names == DefaultSeccompProfile.allowed && rules.first?.action == "SCMP_ACT_ALLOW")
        #expect(rules.contains { $0.names == ["clone"] && $0.args?.first?.op == "SCMP_CMP_MASKED_EQ"
                && $0.args?.first?.value == DefaultSeccompProfile.namespaceCloneFlags && $0.args?.first?.valueTwo == 0 })
        #expect(rules.contains { $0.names == ["clone3"] && $0.action == "SCMP_ACT_ERRNO" && $0.errnoRet == 38 })
        #expect(rules.filter { $0.names == ["personality"] }.count == DefaultSeccompProfile.personalities.count)
        #expect(!rules.contains { $0.names.contains("io_uring_setup") })
        // It reads back unchanged from the JSON a bundle carries.
        #expect(try JSONDecoder().decode(Seccomp.self, from: JSONEncoder().encode(profile)) == profile)
    }

    @Test func withSysAdminCloneIsNotRestricted() throws {
        let profile = DefaultSeccompProfile.profile(capabilities: ["CAP_SYS_ADMIN"])
        let rules = try #require(profile.syscalls)
        #expect(!rules.contains { $0.names == ["clone"] || $0.names == ["clone3"] })
    }
}
