import FoundationEssentials
import OCISpec
import TetherAPI
import TetherSystem

/// One container as tetherd remembers it: written atomically after every change, so a daemon killed at any
/// point restarts with a consistent view and reconnects to the container's shim.
struct ContainerRecord: Codable, Sendable {
    var id: String
    var name: String
    var rootfs: String
    var args: [String]
    var env: [String]
    var cwd: String
    var hostname: String
    var readOnly: Bool
    var network: String
    var remove: Bool
    var restart: RestartPolicy
    var settings = ContainerSettings()
    var status: ContainerState = .created
    var pid: UInt32 = 0
    var exitCode: Int32 = 0
    var createdAt: Int64 = 0
    var startedAt: Int64 = 0
    var finishedAt: Int64 = 0
    var restartCount: UInt32 = 0
    var shimAddress: String = ""
    var bundle: String = ""
    var logPath: String = ""
    /// Set by a user's stop or kill, cleared by a start: the restart policy waits for that start. Optional so that
    /// records written before it existed still decode.
    var manuallyStopped: Bool?
    /// Why the container stopped when it was not its own doing ("shim exited unexpectedly"); cleared by a start.
    var error: String?
    /// Bytes the container wrote since it last started that its log did not take (a full disk, EIO), as its shim
    /// reported them (Shim+LogDrops); nil until it reports any.
    var logDroppedBytes: UInt64?

    var isManuallyStopped: Bool { manuallyStopped ?? false }

    static func load(_ path: String) -> ContainerRecord? {
        guard let bytes = try? FileIO.readFile(path) else { return nil }
        return try? JSONDecoder().decode(ContainerRecord.self, from: Data(bytes))
    }

    /// The record as written to record.json (Daemon+Storage), with OCISpec's JSONWriter (what JSONEncoder writes
    /// for it, without its Codable work: `run` waits for the write after Start); read back with JSONDecoder.
    var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}

extension ContainerRecord: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("id", id)
            writer.field("name", name)
            writer.field("rootfs", rootfs)
            writer.field("args", args)
            writer.field("env", env)
            writer.field("cwd", cwd)
            writer.field("hostname", hostname)
            writer.field("readOnly", readOnly)
            writer.field("network", network)
            writer.field("remove", remove)
            writer.field("restart", restart)
            writer.field("settings", settings)
            writer.field("status", status.rawValue)
            writer.field("pid", pid)
            writer.field("exitCode", exitCode)
            writer.field("createdAt", createdAt)
            writer.field("startedAt", startedAt)
            writer.field("finishedAt", finishedAt)
            writer.field("restartCount", restartCount)
            writer.field("shimAddress", shimAddress)
            writer.field("bundle", bundle)
            writer.field("logPath", logPath)
            writer.field("manuallyStopped", manuallyStopped)
            writer.field("error", error)
            writer.field("logDroppedBytes", logDroppedBytes)
        }
    }
}

extension RestartPolicy: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("kind", kind.rawValue)
            writer.field("maximum", maximum)
        }
    }
}

extension ContainerSettings: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("tty", tty)
            writer.field("openStdin", openStdin)
            writer.field("user", user)
            writer.field("pid", pid)
            writer.field("memoryBytes", memoryBytes)
            writer.field("nanoCPUs", nanoCPUs)
            writer.field("pidsLimit", pidsLimit)
            writer.field("privileged", privileged)
            writer.field("capAdd", capAdd)
            writer.field("capDrop", capDrop)
            writer.field("securityOptions", securityOptions)
            writer.encodedField("consoleSize", consoleSize)
            writer.field("logOptions", logOptions.maxSize > 0 ? logOptions : nil)
        }
    }
}

/// `--restart no|on-failure[:N]|always`.
struct RestartPolicy: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable { case no, onFailure = "on-failure", always }
    var kind: Kind
    var maximum: UInt32?

    static let no = RestartPolicy(kind: .no, maximum: nil)

    static func parse(_ text: String) -> RestartPolicy? {
        if text.isEmpty || text == "no" { return .no }
        if text == "always" { return RestartPolicy(kind: .always, maximum: nil) }
        if text == "on-failure" { return RestartPolicy(kind: .onFailure, maximum: nil) }
        if text.hasPrefix("on-failure:"), let count = UInt32(text.dropFirst("on-failure:".count)) {
            return RestartPolicy(kind: .onFailure, maximum: count)
        }
        return nil
    }

    var description: String {
        switch kind {
        case .no: "no"
        case .always: "always"
        case .onFailure: maximum.map { "on-failure:\($0)" } ?? "on-failure"
        }
    }

    /// Whether a container that exited with `code` after `restarts` restarts should start again.
    func shouldRestart(exitCode code: Int32, restarts: UInt32) -> Bool {
        switch kind {
        case .no: return false
        case .always: return true
        case .onFailure: return code != 0 && (maximum.map { restarts < $0 } ?? true)
        }
    }

    /// Exponential backoff: 100 ms doubling, at most 10 s.
    static func backoff(restarts: UInt32) -> UInt64 {
        min(100 << UInt64(min(restarts, 7)), 10_000)
    }
}
