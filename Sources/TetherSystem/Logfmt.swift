/// One log line in logfmt, as containerd and runc write theirs (logrus's text formatter without a terminal):
/// `time="2006-01-02T15:04:05.000Z" level=warning msg="shim exited unexpectedly" id=web`. A value is written
/// bare when every character is one of `A-Z a-z 0-9 - . _ / @ ^ +`, else quoted as Go's `%q` (so a message with
/// a newline or an escape sequence stays one line and cannot forge another); an empty value is `""`. The fields
/// follow `time`, `level` and `msg` in the order given.
public enum Logfmt {
    /// The line for `level` and `message` at `time` (RFC 3339), with `fields`, ending in a newline.
    public static func line(time: String, level: String, message: String, fields: [(key: String, value: String)] = []) -> String {
        var line = "time=" + value(time) + " level=" + value(level) + " msg=" + value(message)
        for field in fields {
            line += " " + key(field.key) + "=" + value(field.value)
        }
        return line + "\n"
    }

    /// `text` bare when it needs no quotes, else quoted as Go's `%q`. Printable ASCII is quoted here; only other
    /// characters ask PrintableText (whose Unicode tables a daemon's log lines should not page in).
    public static func value(_ text: String) -> String {
        if !text.isEmpty && text.utf8.allSatisfy(isBare) { return text }
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return PrintableText.quoted(text) }
        var quoted = "\""
        quoted.reserveCapacity(text.utf8.count + 8)
        for character in text.unicodeScalars {
            if character == "\"" || character == "\\" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(character)
        }
        return quoted + "\""
    }

    /// A key as it can stand before `=`: each character that could not be bare becomes `_`.
    static func key(_ text: String) -> String {
        if !text.isEmpty && text.utf8.allSatisfy(isBare) { return text }
        if text.isEmpty { return "_" }
        return String(decoding: text.utf8.map { isBare($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }

    /// logrus's characters that need no quotes.
    static func isBare(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "^"),
             UInt8(ascii: "+"):
            return true
        default:
            return false
        }
    }
}
