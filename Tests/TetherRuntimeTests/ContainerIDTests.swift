import Testing
@testable import TetherRuntime

/// Container ids as runc accepts them: letters, digits, `_ + - .`, not `.` or `..`, at most 1024 bytes. The id
/// names a directory under the runtime root, so anything else could climb out of it or forge a path.
@Suite("container ids")
struct ContainerIDTests {
    @Test("accepted ids", arguments: ["abc", "A-b_c.d+e", "0", "-id", "...", "a..b", String(repeating: "x", count: 1024)])
    func accepts(id: String) throws {
        try Runtime.validate(id: id)
    }

    @Test("rejected ids name themselves in an invalid-argument error", arguments: [
        "", ".", "..", "a/b", "../etc", "/abs", "a b", "tab\there", "new\nline", "nul\u{0}", "é", "x:y", "a*",
        String(repeating: "x", count: 1025),
    ])
    func rejects(id: String) {
        let error = #expect(throws: RuntimeError.self) { try Runtime.validate(id: id) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("invalid container id") == true, "\(String(describing: error))")
    }
}
