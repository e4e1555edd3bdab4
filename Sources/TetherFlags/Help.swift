/// The one help style of every Tether tool: abstract, usage line, then one aligned line per flag (or command).
extension CommandSyntax {
    /// `tetherctl run [flags] ROOTFS [COMMAND...]`.
    public var usage: String {
        var words = [program]
        if !name.isEmpty { words.append(name) }
        if !flags.isEmpty { words.append("[flags]") }
        words += required
        words += optional.map { "[\($0)]" }
        if variadic, let last = words.last { words[words.count - 1] = last + "..." }
        if let passthrough { words.append("[\(passthrough)...]") }
        return words.joined(separator: " ")
    }

    public var help: String {
        let text = "\(abstract)\n\nUsage: \(usage)\n"
        guard !flags.isEmpty else { return text }
        let rows = flags.map { flag in
            (flag.names.joined(separator: ", ") + (flag.placeholder.map { " " + $0 } ?? ""),
             flag.help + (flag.repeatable ? " (repeatable)" : ""))
        }
        return text + "\nFlags:\n" + HelpTable.render(rows)
    }
}

public enum HelpTable {
    /// Two columns, the first padded to its widest cell: `  label  text\n` per row.
    public static func render(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { label, text in
            "  " + label + String(repeating: " ", count: width - label.count + 2) + text + "\n"
        }.joined()
    }

    /// A tool's overview: its abstract, usage line, its commands with their abstracts, and a closing note.
    public static func overview(abstract: String, usage: String, notes: String = "", commands: [CommandSyntax],
                                footer: String) -> String {
        "\(abstract)\n\nUsage: \(usage)\n\n" + (notes.isEmpty ? "" : notes + (notes.hasSuffix("\n") ? "\n" : "\n\n"))
            + "Commands:\n"
            + render(commands.map { ($0.name, $0.abstract) }) + "\n" + footer + "\n"
    }
}
