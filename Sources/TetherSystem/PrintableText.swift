/// Text from a client or a container, made safe to print on a terminal or in a line-oriented output: a name holding
/// a newline must not forge a second `ps` row or `events` line, an escape sequence must not reach the terminal.
public enum PrintableText {
    /// Go's `%q` (strconv.Quote): double quotes around `text`, with `\"`, `\\`, `\n`, `\t`, ... and every
    /// character that is not printable as `\x1b`, `\u202e` or `\U000e0001`.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result += escape(scalar)
            }
        }
        return result + "\""
    }

    /// `text` itself when every character is printable, else `quoted(text)`: what a name or an id looks like
    /// almost always, and never raw control characters.
    public static func escaped(_ text: String) -> String {
        text.unicodeScalars.allSatisfy(isPrintable) ? text : quoted(text)
    }

    /// `text` with each character that is not printable escaped as `quoted` does, and nothing else changed: for a
    /// message that holds a client's input (an error from tetherd) printed as one line.
    public static func visible(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars { result += escape(scalar) }
        return result
    }

    /// Printable as Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Not
    /// controls, format characters (bidi overrides), separators other than " ", private use or unassigned.
    public static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default: break
        }
        if isPrintable(scalar) { return String(scalar) }
        let value = scalar.value
        if value < 0x80 { return "\\x" + hex(value, digits: 2) }
        if value < 0x10000 { return "\\u" + hex(value, digits: 4) }
        return "\\U" + hex(value, digits: 8)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
