import Testing
@testable import OCISpec

@Suite("OCI spec version")
struct VersionTests {
    @Test func versionIsRuntimeSpec12() { #expect(OCIVersion.current == "1.2.0") }
}
