import FoundationEssentials
import Testing
@testable import OCISpec

@Suite("OCI spec version")
struct VersionTests {
    @Test("the version we implement is a runtime-spec 1.x semantic version")
    func versionIsSemantic() {
        let parts = OCIVersion.current.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isNumber } }, "\(OCIVersion.current)")
        #expect(parts.first == "1")
    }

    @Test("a spec made without a version carries the current one into config.json and back")
    func defaultVersionIsWritten() throws {
        let bytes = Array(try JSONEncoder().encode(Spec()))
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""ociVersion":"\#(OCIVersion.current)""#))
        #expect(try Spec.decode(bytes, file: "config.json").ociVersion == OCIVersion.current)
    }
}
