import FoundationEssentials
import Testing
@testable import OCISpec

/// `linux.namespaces[].type` is a NamespaceType: the eight kinds by name, an unknown one kept so validation names it.
@Suite("namespace kinds")
struct NamespaceTypeTests {
    @Test func knownKindsAreTheRuntimeSpecsEight() {
        #expect(NamespaceType.known.map(\.rawValue) == ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"])
        #expect(NamespaceType.known.allSatisfy { $0.isKnown })
        #expect(!NamespaceType(rawValue: "net").isKnown)  // the /proc name, not the spec's
        #expect("\(NamespaceType.network)" == "network")
    }

    @Test func anUnknownKindDecodesAndValidationNamesIt() throws {
        let json = #"{"ociVersion": "1.0.0", "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "pid"}, {"type": "foo"}]}}"#
        let direct = try Spec.decode(Array(json.utf8))
        let codable = try JSONDecoder().decode(Spec.self, from: Data(json.utf8))
        #expect(direct == codable)
        #expect(direct.linux?.namespaces?.map(\.type) == [.pid, NamespaceType(rawValue: "foo")])
        #expect(throws: SpecError(path: "linux.namespaces[1].type", "unknown namespace \"foo\"")) {
            try direct.validate(requireProcess: false)
        }
        let twice = #"{"ociVersion": "1.0.0", "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "uts"}, {"type": "uts"}]}}"#
        #expect(throws: SpecError(path: "linux.namespaces[1].type", "duplicate namespace \"uts\"")) {
            try Spec.decode(Array(twice.utf8)).validate(requireProcess: false)
        }
    }

    /// The kind is written as the plain string it was read from, by JSONEncoder and by JSONWriter alike.
    @Test func writtenAsThePlainString() throws {
        let namespaces = [Linux.Namespace(type: .mount), Linux.Namespace(type: .network, path: "/proc/1/ns/net")]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(namespaces), as: UTF8.self)
            == #"[{"type":"mount"},{"path":"\/proc\/1\/ns\/net","type":"network"}]"#)
        var writer = JSONWriter()
        writer.array(namespaces)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"[{"type":"mount"},{"type":"network","path":"/proc/1/ns/net"}]"#)
    }
}
