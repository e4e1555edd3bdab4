import Testing
import TTRPC
import TetherAPI
@testable import TetherDaemon

/// What tetherd refuses at the door, whichever client sent it: each refusal is an invalid-argument error naming
/// the flag or value.
@Suite("run and create input checks")
struct InputValidationTests {
    static func request(_ change: (inout Tether_Daemon_V1_RunRequest) -> Void = { _ in }) -> Tether_Daemon_V1_RunRequest {
        var request = Tether_Daemon_V1_RunRequest.with {
            $0.rootfs = "/srv/rootfs"
            $0.args = ["true"]
        }
        change(&request)
        return request
    }

    /// `body` fails with an invalid-argument status whose message contains `text`.
    static func expectRefusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        let error = #expect(throws: TTRPCStatus.self, sourceLocation: sourceLocation) { try body() }
        #expect(error?.code == .invalidArgument, sourceLocation: sourceLocation)
        #expect(error?.message.contains(text) == true, "\(String(describing: error)) names \(text)", sourceLocation: sourceLocation)
    }

    @Test func acceptsAPlainRequest() throws {
        try Daemon.validate(Self.request())
        let record = try Daemon.record(Self.request { $0.name = "web.1_a-b" }, id: "0123456789abcdef0123456789abcdef")
        #expect(record.name == "web.1_a-b" && record.network == "none" && record.restart == .no)
        let unnamed = try Daemon.record(Self.request(), id: "0123456789abcdef0123456789abcdef")
        #expect(unnamed.name == "c-01234567")
    }

    @Test(arguments: ["-x", "a b", "a/b", ".hidden", "é", String(repeating: "a", count: ContainerName.maximumLength + 1)])
    func refusesANameOutsideDockersRule(_ name: String) {
        let problem = ContainerName.problem(name)
        #expect(problem != nil)
        Self.expectRefusal(problem ?? "?") { try Daemon.validate(Self.request { $0.name = name }) }
    }

    @Test(arguments: ["a", "A0", "a_b.c-d", String(repeating: "a", count: ContainerName.maximumLength)])
    func acceptsANameInsideDockersRule(_ name: String) throws {
        #expect(ContainerName.problem(name) == nil)
        try Daemon.validate(Self.request { $0.name = name })
    }

    @Test func refusesABadRootfs() {
        Self.expectRefusal("an empty path") { try Daemon.validate(Self.request { $0.rootfs = "" }) }
        Self.expectRefusal("must be an absolute path") { try Daemon.validate(Self.request { $0.rootfs = "srv/rootfs" }) }
        Self.expectRefusal("overlay mount options") { try Daemon.validate(Self.request { $0.rootfs = "/srv/a,upperdir=/etc" }) }
        Self.expectRefusal("overlay mount options") { try Daemon.validate(Self.request { $0.rootfs = "/srv/a:/b" }) }
    }

    @Test func refusesLimitsOutsideDockersRange() throws {
        Self.expectRefusal(ContainerInputs.minimumMemoryMessage) { try Daemon.validate(Self.request { $0.memoryBytes = 1 }) }
        try Daemon.validate(Self.request { $0.memoryBytes = ContainerInputs.minimumMemoryBytes })
        Self.expectRefusal("range of CPUs") { try Daemon.validate(Self.request { $0.nanoCpus = 1 }) }
        Self.expectRefusal("range of CPUs") {
            try Daemon.validate(Self.request { $0.nanoCpus = Int64(Daemon.hostCPUs + 1) * 1_000_000_000 })
        }
        Self.expectRefusal("must not be negative") { _ = try Daemon.settings(Self.request { $0.pidsLimit = -1 }) }
    }

    @Test func refusesSettingsNamingTheFlag() {
        Self.expectRefusal("--restart sometimes") { _ = try Daemon.record(Self.request { $0.restart = "sometimes" }, id: "x") }
        Self.expectRefusal("--pid bogus") { _ = try Daemon.settings(Self.request { $0.pid = "bogus" }) }
        Self.expectRefusal("--pid container:") { _ = try Daemon.settings(Self.request { $0.pid = "container:" }) }
        Self.expectRefusal("--user root") { _ = try Daemon.settings(Self.request { $0.user = "root" }) }
        Self.expectRefusal("--user 1:2:3") { _ = try Daemon.settings(Self.request { $0.user = "1:2:3" }) }
        Self.expectRefusal("--cap-add CAP_FLY") { _ = try Daemon.settings(Self.request { $0.capAdd = ["CAP_FLY"] }) }
        Self.expectRefusal("--cap-drop nope") { _ = try Daemon.settings(Self.request { $0.capDrop = ["nope"] }) }
        Self.expectRefusal("--security-opt apparmor=x") { _ = try Daemon.settings(Self.request { $0.securityOpt = ["apparmor=x"] }) }
        Self.expectRefusal("max-size must be") { _ = try Daemon.settings(Self.request { $0.logOpt = ["max-size=0"] }) }
        Self.expectRefusal("max-file needs max-size") { _ = try Daemon.settings(Self.request { $0.logOpt = ["max-file=2"] }) }
        Self.expectRefusal("unknown log opt 'mode'") { _ = try Daemon.settings(Self.request { $0.logOpt = ["mode=non-blocking"] }) }
    }

    @Test func randomIDsAre32HexDigitsAndDiffer() {
        let ids = (0..<100).map { _ in Daemon.randomID() }
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
        #expect(Set(ids).count == ids.count)
    }
}
