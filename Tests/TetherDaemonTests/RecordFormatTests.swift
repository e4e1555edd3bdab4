import FoundationEssentials
import Testing
@testable import TetherDaemon

/// record.json is tetherd's memory across restarts: the formats earlier versions wrote (Records/) must still load,
/// a record must survive its own write and read, and a record that does not decode names the file and the field.
@Suite("record.json format")
struct RecordFormatTests {
    static func sample(_ name: String) throws -> [UInt8] {
        let directory = String(#filePath.dropLast("RecordFormatTests.swift".count))
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory + "Records/" + name)))
    }

    @Test func aRecordWithEveryFieldOfDecember2026Loads() throws {
        let record = try ContainerRecord.decode(try Self.sample("every-field-2026-12.json"), file: "record.json")
        #expect(record.id == "0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f" && record.name == "web")
        #expect(record.args == ["sh", "-c", "echo \"hi\" > /tmp/x"] && record.env == ["A=1", "B=two words"])
        #expect(record.cwd == "/work" && record.hostname == "web-host" && record.readOnly && record.network == "host")
        #expect(record.restart == RestartPolicy(kind: .onFailure, maximum: 3))
        #expect(record.status == .running && record.pid == 4242 && record.restartCount == 2)
        #expect(record.createdAt == 1_764_690_000_123_456_789 && record.finishedAt == 0)
        #expect(record.manuallyStopped == false && record.error == "shim exited unexpectedly" && record.logDroppedBytes == 4096)
        var settings = ContainerSettings()
        settings.tty = true
        settings.openStdin = true
        settings.user = "1000:1001"
        settings.pid = "container:db"
        settings.memoryBytes = 64 << 20
        settings.nanoCPUs = 500_000_000
        settings.pidsLimit = 20
        settings.capAdd = ["NET_ADMIN"]
        settings.capDrop = ["MKNOD"]
        settings.securityOptions = ["no-new-privileges"]
        settings.consoleSize = .init(height: 24, width: 80)
        settings.logOptions = LogOptions(maxSize: 1 << 20, maxFiles: 3)
        #expect(record.settings == settings)
    }

    @Test func aRecordWithItsOptionalFieldsAbsentLoads() throws {
        let record = try ContainerRecord.decode(try Self.sample("defaults-2026-12.json"), file: "record.json")
        #expect(record.settings == ContainerSettings())
        #expect(record.settings.logOptions == nil && record.settings.consoleSize == nil)
        #expect(record.manuallyStopped == nil && record.error == nil && record.logDroppedBytes == nil)
        #expect(record.status == .exited && record.exitCode == 137 && record.remove && record.restart == .no)
    }

    @Test func aRecordFromBeforeSettingsLoadsWithTheDefaults() throws {
        let record = try ContainerRecord.decode(try Self.sample("before-settings.json"), file: "record.json")
        #expect(record.settings == ContainerSettings())
        #expect(record.restart == RestartPolicy(kind: .always, maximum: nil) && record.status == .created)
    }

    /// Each committed format, read and written again, reads back the same.
    @Test(arguments: ["every-field-2026-12.json", "defaults-2026-12.json", "before-settings.json"])
    func aLoadedRecordSurvivesItsWriteAndRead(_ name: String) throws {
        let record = try ContainerRecord.decode(try Self.sample(name), file: "record.json")
        #expect(try ContainerRecord.decode(record.jsonBytes, file: "record.json") == record)
    }

    @Test func decodingErrorsNameTheFileAndTheField() throws {
        let good = String(decoding: try Self.sample("defaults-2026-12.json"), as: UTF8.self)
        let cases: [(String, String, String)] = [
            (#""tty":false"#, #""tty":"yes""#, "r.json: settings.tty: expected Bool"),
            (#""memoryBytes":0"#, #""memoryBytes":"64m""#, "r.json: settings.memoryBytes: expected Int64"),
            (#""capAdd":[]"#, #""capAdd":[1]"#, "r.json: settings.capAdd[0]: expected String"),
            (#""restart":{"kind":"no"}"#, #""restart":{"kind":"sometimes"}"#, "r.json: restart.kind: invalid JSON or value"),
            (#""name":"c-5e1d2c3b","#, "", "r.json: name: missing required field"),
            (#""pid":0,"#, #""pid":null,"#, "r.json: pid: expected UInt32, found null"),
        ]
        for (original, replacement, message) in cases {
            #expect(good.contains(original), "the sample has \(original)")
            let bytes = Array(good.replacingOccurrences(of: original, with: replacement).utf8)
            let error = #expect(throws: RecordError.self, "\(replacement)") { try ContainerRecord.decode(bytes, file: "r.json") }
            #expect(error?.description == message)
        }
        let error = #expect(throws: RecordError.self) { try ContainerRecord.decode(Array("{".utf8), file: "r.json") }
        #expect(error?.description.hasPrefix("r.json: ") == true)
    }

    @Test func loadingAFileThatIsNotThereIsNoRecordAndAnUnreadableOneIsAnError() throws {
        #expect(try ContainerRecord.load("/nonexistent-tether-daemon-test/record.json") == nil)
        let directory = try TemporaryDirectory()
        let path = directory.path + "/record.json"
        try Data("{\"id\": 3}".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RecordError.self) { try ContainerRecord.load(path) }
        #expect(error?.description == "\(path): id: expected String")
    }
}

/// A directory under /tmp removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = "/tmp/tether-daemon-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { _ = try? FileManager.default.removeItem(atPath: path) }
}
