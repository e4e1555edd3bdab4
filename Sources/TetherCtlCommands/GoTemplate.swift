import TetherSystem

/// What `inspect` and `ps` show, as docker's Go templates and JSON see it: objects keep their fields' order.
indirect enum TemplateValue {
    case object([(String, TemplateValue)])
    case array([TemplateValue])
    case string(String)
    case integer(Int64)
    case bool(Bool)

    /// Go's encoding/json: compact (json.Marshal) or indented by `indent` per level (json.MarshalIndent, as
    /// `docker inspect` prints): `"Key": value`, `<`, `>` and `&` escaped as Go escapes them.
    func json(indent: String? = nil, level: Int = 0) -> String {
        let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) } ?? ""
        let closing = indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
        switch self {
        case .string(let text): return TemplateValue.quoted(text)
        case .integer(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[" + items.map { newline + $0.json(indent: indent, level: level + 1) }.joined(separator: ",") + closing + "]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            let separator = indent == nil ? ":" : ": "
            return "{" + fields.map { newline + TemplateValue.quoted($0.0) + separator + $0.1.json(indent: indent, level: level + 1) }
                .joined(separator: ",") + closing + "}"
        }
    }

    /// Go's fmt %v, which a template prints for a field: text as is, a struct as `{v1 v2}`, a list as `[a b]`.
    var text: String {
        switch self {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items): return "[" + items.map(\.text).joined(separator: " ") + "]"
        case .object(let fields): return "{" + fields.map(\.1.text).joined(separator: " ") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || ["<", ">", "&", "\u{2028}", "\u{2029}"].contains(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

/// The subset of Go's text/template that `docker inspect -f` and `docker ps --format` are used with: text and
/// actions `{{.}}`, `{{.Field.Path}}` and `{{json .Field.Path}}`. A field the value does not have fails, naming
/// it (exit status 1, as docker).
struct GoTemplate {
    enum Piece {
        case text(String)
        case field(path: [String], json: Bool)
    }

    let source: String
    let pieces: [Piece]

    init(_ source: String) throws {
        self.source = source
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw CLIError("template: \(PrintableText.quoted(source)): unclosed action")
            }
            pieces.append(try GoTemplate.action(String(rest[open.upperBound..<close.lowerBound]), in: source))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    private static func action(_ inner: String, in source: String) throws -> Piece {
        let words = inner.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let isJSON = words.count == 2 && words[0] == "json"
        guard words.count == 1 || isJSON, let path = words.last, path.hasPrefix(".") else {
            throw CLIError("template: \(PrintableText.quoted(source)): unsupported action {{\(inner)}} (field paths such as {{.State.Pid}} and {{json .State}})")
        }
        return .field(path: path == "." ? [] : path.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init),
                      json: isJSON)
    }

    func render(_ value: TemplateValue) throws -> String {
        var output = ""
        for piece in pieces {
            switch piece {
            case .text(let text): output += text
            case .field(let path, let json):
                let found = try GoTemplate.lookup(path, in: value, source: source)
                output += json ? found.json() : found.text
            }
        }
        return output
    }

    static func lookup(_ path: [String], in value: TemplateValue, source: String) throws -> TemplateValue {
        var current = value
        var walked = ""
        for name in path {
            guard case .object(let fields) = current, let next = fields.first(where: { $0.0 == name })?.1 else {
                throw CLIError("template: \(PrintableText.quoted(source)): can't evaluate field \(PrintableText.escaped(name)) in \(walked.isEmpty ? "." : walked)")
            }
            walked += "." + name
            current = next
        }
        return current
    }
}
