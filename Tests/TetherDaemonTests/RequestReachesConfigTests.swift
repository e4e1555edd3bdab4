import FoundationEssentials
import OCISpec
import Testing
import TetherAPI
@testable import TetherDaemon

/// Every field of the Run/Create request reaches what acts on it: request → settings and record (Daemon.record) →
/// record.json and back (the record tetherd reloads after a restart) → the bundle's config.json as the shim reads it.
/// The fields are read from daemon.proto itself, and each must have an entry in `wiring`: a field added to the
/// request without an entry, or with one whose effect is lost on the way, fails here.
@Suite("request to config.json")
struct RequestReachesConfigTests {
    /// Sets one field of the request, and says whether its effect arrived (in config.json, or in the record for what
    /// tetherd itself acts on: the name, the overlay's lower layer, --rm, --restart, the stdin FIFO, log rotation).
    struct Wiring: Sendable {
        var set: @Sendable (inout Tether_Daemon_V1_RunRequest) -> Void
        var arrived: @Sendable (ContainerRecord, Spec) -> Bool
    }

    static let wiring: [String: Wiring] = [
        "name": .init(set: { $0.name = "web" }, arrived: { record, _ in record.name == "web" }),
        "rootfs": .init(set: { $0.rootfs = "/srv/other" }, arrived: { record, _ in record.rootfs == "/srv/other" }),
        "args": .init(set: { $0.args = ["echo", "hi"] }, arrived: { _, spec in spec.process?.args == ["echo", "hi"] }),
        "env": .init(set: { $0.env = ["X=1"] }, arrived: { _, spec in spec.process?.env?.last == "X=1" }),
        "cwd": .init(set: { $0.cwd = "/work" }, arrived: { _, spec in spec.process?.cwd == "/work" }),
        "remove": .init(set: { $0.remove = true }, arrived: { record, _ in record.remove }),
        "hostname": .init(set: { $0.hostname = "h1" }, arrived: { _, spec in spec.hostname == "h1" }),
        "read_only": .init(set: { $0.readOnly = true }, arrived: { _, spec in spec.root?.readonly == true }),
        "restart": .init(set: { $0.restart = "on-failure:4" },
                         arrived: { record, _ in record.restart == RestartPolicy(kind: .onFailure, maximum: 4) }),
        "network": .init(set: { $0.network = "host" },
                         arrived: { _, spec in spec.linux?.namespaces?.contains { $0.type == .network } == false }),
        "tty": .init(set: { $0.tty = true }, arrived: { _, spec in spec.process?.terminal == true }),
        "open_stdin": .init(set: { $0.openStdin = true }, arrived: { record, _ in record.settings.openStdin }),
        "user": .init(set: { $0.user = "1000:5" }, arrived: { _, spec in spec.process?.user == .init(uid: 1000, gid: 5) }),
        "pid": .init(set: { $0.pid = "host" }, arrived: { _, spec in spec.linux?.namespaces?.contains { $0.type == .pid } == false }),
        "memory_bytes": .init(set: { $0.memoryBytes = 64 << 20 }, arrived: { _, spec in spec.linux?.resources?.memory?.limit == 64 << 20 }),
        "nano_cpus": .init(set: { $0.nanoCpus = 500_000_000 }, arrived: { _, spec in spec.linux?.resources?.cpu?.quota == 50_000 }),
        "pids_limit": .init(set: { $0.pidsLimit = 20 }, arrived: { _, spec in spec.linux?.resources?.pids?.limit == 20 }),
        "privileged": .init(set: { $0.privileged = true },
                            arrived: { _, spec in spec.linux?.maskedPaths == nil && spec.linux?.seccomp == nil }),
        "cap_add": .init(set: { $0.capAdd = ["sys_ptrace"] },
                         arrived: { _, spec in spec.process?.capabilities?.bounding?.contains("CAP_SYS_PTRACE") == true }),
        "cap_drop": .init(set: { $0.capDrop = ["CHOWN"] },
                          arrived: { _, spec in spec.process?.capabilities?.bounding?.contains("CAP_CHOWN") == false }),
        "security_opt": .init(set: { $0.securityOpt = ["no-new-privileges"] },
                              arrived: { _, spec in spec.process?.noNewPrivileges == true }),
        "console_size": .init(set: { $0.tty = true; $0.consoleSize = .with { $0.height = 24; $0.width = 80 } },
                              arrived: { _, spec in spec.process?.consoleSize == .init(height: 24, width: 80) }),
        "log_opt": .init(set: { $0.logOpt = ["max-size=1m", "max-file=2"] },
                         arrived: { record, _ in record.settings.logOptions?.uriQuery == "?max-size=1048576&max-files=2" }),
    ]

    /// Fields only the client acts on (`detach`: tetherctl does not attach).
    static let clientOnly: Set<String> = ["detach"]

    static let base = Tether_Daemon_V1_RunRequest.with {
        $0.rootfs = "/srv/rootfs"
        $0.args = ["sh"]
    }

    /// The RunRequest's field names, from daemon.proto.
    static func protoFields() throws -> Set<String> {
        let tests = String(#filePath.dropLast("Tests/TetherDaemonTests/RequestReachesConfigTests.swift".count))
        let proto = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tests + "Sources/TetherAPI/Proto/tether/daemon/v1/daemon.proto")),
                           as: UTF8.self)
        let lines = proto.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("message RunRequest {") }),
              let end = lines[start...].firstIndex(where: { $0.hasPrefix("}") }) else { return [] }
        var fields: Set<String> = []
        for line in lines[(start + 1)..<end] {
            let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = code.split(whereSeparator: { $0 == " " || $0 == "=" || $0 == ";" })
            guard words.count >= 3, Int(words.last!) != nil else { continue }
            fields.insert(String(words[words.count - 2]))
        }
        return fields
    }

    /// The request as tetherd records it, reloads it and writes its bundle.
    static func pipeline(_ request: Tether_Daemon_V1_RunRequest) throws -> (ContainerRecord, Spec) {
        let created = try Daemon.record(request, id: "0123456789abcdef0123456789abcdef")
        let reloaded = try ContainerRecord.decode(created.jsonBytes, file: "record.json")
        #expect(reloaded == created)
        let joins = reloaded.settings.pidNamespaceContainer != nil ? "/proc/7/ns/pid" : nil
        let spec = try Spec.decode(BundleWriter.configJSON(try BundleWriter.spec(for: reloaded, pidNamespacePath: joins)))
        return (reloaded, spec)
    }

    @Test func everyRequestFieldHasAnEntry() throws {
        let fields = try Self.protoFields()
        #expect(fields.count >= 24, "daemon.proto's RunRequest was found and read")
        #expect(Set(Self.wiring.keys).union(Self.clientOnly) == fields)
        #expect(Self.clientOnly.isDisjoint(with: Self.wiring.keys))
    }

    @Test(arguments: Self.wiring.keys.sorted())
    func aFieldReachesItsDestination(_ field: String) throws {
        let wiring = try #require(Self.wiring[field])
        var request = Self.base
        wiring.set(&request)
        #expect(request != Self.base, "the entry sets the field")
        #expect(request.textFormatString().contains(field), "the entry sets \(field) itself")
        let (baseRecord, baseSpec) = try Self.pipeline(Self.base)
        #expect(!wiring.arrived(baseRecord, baseSpec), "the check fails without the field")
        let (record, spec) = try Self.pipeline(request)
        #expect(wiring.arrived(record, spec), "\(field) arrived")
    }

    /// All fields at once (those that combine: not privileged with capability changes) still arrive together.
    @Test func allFieldsTogether() throws {
        var request = Self.base
        for (field, wiring) in Self.wiring where field != "privileged" { wiring.set(&request) }
        let (record, spec) = try Self.pipeline(request)
        for (field, wiring) in Self.wiring where field != "privileged" {
            #expect(wiring.arrived(record, spec), "\(field) arrived alongside the others")
        }
    }
}
