import FoundationEssentials
import OCISpec
import TetherAPI
import TetherSystem

/// One container as tetherd remembers it: written atomically after every change, so a daemon killed at any
/// point restarts with a consistent view and reconnects to the container's shim.
struct ContainerRecord: Codable, Sendable, Equatable {
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

    /// The record in record.json, or nil when there is none; a record that does not decode is an error naming the
    /// file and the field (`record.json: settings.tty: expected Bool`).
    static func load(_ path: String) throws -> ContainerRecord? {
        guard FileIO.exists(path) else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch let error as SyscallError {
            throw DurableFile.status(error)
        }
        return try decode(bytes, file: path)
    }

    /// A record from its JSON; an error names `file` and the JSON path of the field.
    static func decode(_ bytes: [UInt8], file: String) throws(RecordError) -> ContainerRecord {
        do {
            return try JSONDecoder().decode(ContainerRecord.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw RecordError(file: file, error)
        } catch {
            throw RecordError(file: file, path: "", message: "\(error)")
        }
    }

    /// The record as written to record.json (Daemon+Storage), by its Codable conformance.
    var jsonBytes: [UInt8] {
        // JSONEncoder fails only on a non-finite floating-point number, and a record has none.
        (try? Array(JSONEncoder().encode(self))) ?? []
    }
}

/// A record.json that cannot be read as a record: the file, the JSON path of the field and what was wrong.
struct RecordError: Error, CustomStringConvertible, Equatable {
    var file: String
    var path: String
    var message: String

    init(file: String, path: String, message: String) {
        (self.file, self.path, self.message) = (file, path, message)
    }

    init(file: String, _ error: DecodingError) {
        func dotted(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .reduce("") { path, key in path.isEmpty || key.hasPrefix("[") ? path + key : path + "." + key }
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(file: file, path: dotted(context.codingPath), message: "expected \(type)")
        case .valueNotFound(let type, let context):
            self.init(file: file, path: dotted(context.codingPath), message: "expected \(type), found null")
        case .keyNotFound(let key, let context):
            self.init(file: file, path: dotted(context.codingPath + [key]), message: "missing required field")
        case .dataCorrupted(let context):
            self.init(file: file, path: dotted(context.codingPath), message: "invalid JSON or value")
        @unknown default:
            self.init(file: file, path: "", message: "\(error)")
        }
    }

    var description: String { path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)" }
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
