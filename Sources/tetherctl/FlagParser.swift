/// Docker-style flags parsed by hand, for the commands on the hot path (`run`, `create`): they never touch
/// ArgumentParser, whose metadata and completion-script checks cost most of a start.
///
/// `--name VALUE`, `--name=VALUE`, `-n VALUE`, `-nVALUE`, grouped short flags (`-it`, `-dit`), repeatable options
/// (`-e A=1 -e B=2`). Flags come before the positional arguments, as docker's: the first positional argument (or
/// `--`) ends them, so the command after the rootfs keeps its own flags. Errors name the flag.
struct FlagParser {
    struct Flag {
        let long: String
        let short: Character?
        /// An option (takes a value) rather than a boolean flag.
        let takesValue: Bool
        let help: String

        static func flag(_ long: String, _ short: Character? = nil, _ help: String) -> Flag {
            Flag(long: long, short: short, takesValue: false, help: help)
        }

        static func option(_ long: String, _ short: Character? = nil, _ help: String) -> Flag {
            Flag(long: long, short: short, takesValue: true, help: help)
        }
    }

    /// What was given: each flag's values by long name (a boolean flag's value is "true"), in order.
    struct Parsed {
        var values: [String: [String]] = [:]
        var positionals: [String] = []
        var help = false

        func has(_ long: String) -> Bool { values[long] != nil }
        func last(_ long: String) -> String? { values[long]?.last }
        func all(_ long: String) -> [String] { values[long] ?? [] }
    }

    let flags: [Flag]

    func parse(_ arguments: some Sequence<String>) throws(CLIError) -> Parsed {
        var parsed = Parsed()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if !parsed.positionals.isEmpty || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                while let rest = iterator.next() { parsed.positionals.append(rest) }
                break
            }
            if argument == "--help" || argument == "-h" {
                parsed.help = true
                continue
            }
            if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                var value: String?
                if let equals = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                guard let flag = flags.first(where: { $0.long == name }) else { throw CLIError("unknown flag: --\(name)") }
                if flag.takesValue {
                    guard let given = value ?? iterator.next() else { throw CLIError("flag needs an argument: --\(name)") }
                    parsed.values[name, default: []].append(given)
                } else {
                    guard value == nil || value == "true" || value == "false" else {
                        throw CLIError("--\(name)=\(value ?? ""): expected true or false")
                    }
                    if value == "false" { parsed.values[name] = nil } else { parsed.values[name, default: []].append("true") }
                }
                continue
            }
            // A group of short flags; an option takes the rest of the group, or the next argument, as its value.
            var rest = Substring(argument.dropFirst())
            while let letter = rest.first {
                rest = rest.dropFirst()
                guard let flag = flags.first(where: { $0.short == letter }) else { throw CLIError("unknown shorthand flag: '\(letter)' in \(argument)") }
                if flag.takesValue {
                    let inline = rest.hasPrefix("=") ? String(rest.dropFirst()) : String(rest)
                    guard let given = inline.isEmpty ? iterator.next() : inline else { throw CLIError("flag needs an argument: -\(letter)") }
                    parsed.values[flag.long, default: []].append(given)
                    break
                }
                parsed.values[flag.long, default: []].append("true")
            }
        }
        return parsed
    }

    /// `Usage:` line, description and one line per flag.
    func usage(_ synopsis: String, _ abstract: String) -> String {
        var text = "Usage: tetherctl \(synopsis)\n\n\(abstract)\n\nOptions:\n"
        for flag in flags {
            var names = flag.short.map { "-\($0), " } ?? "    "
            names += "--\(flag.long)" + (flag.takesValue ? " VALUE" : "")
            text += "  " + names.padding(to: 28) + flag.help + "\n"
        }
        return text
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
