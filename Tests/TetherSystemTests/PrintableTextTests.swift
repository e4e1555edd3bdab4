import Testing
import TetherSystem

@Suite("printable text")
struct PrintableTextTests {
    @Test("quoted is Go's %q")
    func quotedLikeGo() {
        #expect(PrintableText.quoted("web") == "\"web\"")
        #expect(PrintableText.quoted("a\nb\t\"c\"\\") == "\"a\\nb\\t\\\"c\\\"\\\\\"")
        #expect(PrintableText.quoted("\u{1b}[2J\u{7f}") == "\"\\x1b[2J\\x7f\"")
        #expect(PrintableText.quoted("\u{85}\u{202e}é") == "\"\\u0085\\u202eé\"")
        #expect(PrintableText.quoted("\u{e0001}") == "\"\\U000e0001\"")
    }

    @Test("escaped leaves printable text alone and quotes the rest; visible escapes in place")
    func escapedAndVisible() {
        #expect(PrintableText.escaped("web-1.example") == "web-1.example")
        #expect(PrintableText.escaped("a b") == "a b")
        #expect(PrintableText.escaped("a\nb") == "\"a\\nb\"")
        #expect(PrintableText.visible("no such container: a\nb \"q\"") == "no such container: a\\nb \"q\"")
        #expect(!PrintableText.visible("x\u{1b}]0;pwned\u{07}").contains("\u{1b}"))
    }
}
