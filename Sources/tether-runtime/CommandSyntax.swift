/// What a command accepts after its name: flags, positional arguments and (exec, ps) a trailing command line
/// passed through untouched. Parsing follows runc (urfave/cli and Go's flag package) rather than ArgumentParser,
/// which cost a large share of every start in type metadata and conformance lookups:
/// `--flag value`, `--flag=value`, `-f value`, `-f=value`, a long name with one dash (`-bundle`), booleans as
/// `--flag` or `--flag=true|false`, `--` ends the flags. Flags may come between positionals; in exec and ps,
/// everything after the container id is the passthrough command line, flags included.
struct CommandSyntax {
    /// One flag: every name it answers to (the first long one is its key), and for a flag that takes a value
    /// the placeholder shown in the help (nil: a boolean flag).
    struct Flag {
        let names: [String]
        let value: String?
        let help: String

        init(_ names: String..., value: String? = nil, help: String) {
            self.names = names
            self.value = value
            self.help = help
        }

        var key: String { names.first { $0.hasPrefix("--") } ?? names[0] }
    }

    let name: String
    let abstract: String
    var flags: [Flag] = []
    /// Positional arguments that must be given, in order (shown upper-case in the help).
    var required: [String] = []
    /// Positional arguments that may follow the required ones.
    var optional: [String] = []
    /// The name of a trailing command line taken verbatim after the positionals (nil: none accepted).
    var passthrough: String?

    func flag(named name: String) -> Flag? {
        flags.first { $0.names.contains(name) }
    }

    /// Splits `arguments` (everything after the command name) into flags and positionals; a UsageError names the
    /// argument at fault.
    func parse(_ arguments: [String]) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var flagsEnded = false
        let positionalCount = required.count + optional.count
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if passthrough != nil && parsed.positionals.count == positionalCount {
                // Everything after the positionals is the passthrough command line, flags included.
                parsed.passthrough = Array(arguments[(index - 1)...])
                break
            }
            if flagsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                flagsEnded = true
                continue
            }
            if argument == "-h" || argument == "--help" {
                parsed.helpRequested = true
                return parsed
            }
            var name = argument
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            // Go's flag package: a long name may be written with one dash.
            guard let flag = self.flag(named: name) ?? (name.hasPrefix("--") ? nil : self.flag(named: "-" + name)) else {
                throw UsageError("\(self.name): unknown flag \(name)")
            }
            if flag.value == nil {
                switch inline {
                case nil, "true": parsed.set(flag.key, "true")
                case "false": parsed.unset(flag.key)
                default: throw UsageError("\(self.name): \(name) takes no value (got \"\(inline!)\")")
                }
                continue
            }
            if let inline {
                parsed.append(flag.key, inline)
            } else {
                guard index < arguments.count else { throw UsageError("\(self.name): \(name) needs a value") }
                parsed.append(flag.key, arguments[index])
                index += 1
            }
        }
        if parsed.positionals.count < required.count {
            let missing = required[parsed.positionals.count...].joined(separator: " ")
            throw UsageError("\(name): missing \(missing) (usage: \(usage))")
        }
        if parsed.positionals.count > positionalCount {
            throw UsageError("\(name): unexpected argument \"\(parsed.positionals[positionalCount])\" (usage: \(usage))")
        }
        return parsed
    }

    var usage: String {
        var words = ["tether-runtime", name]
        if !flags.isEmpty { words.append("[flags]") }
        words += required
        words += optional.map { "[\($0)]" }
        if let passthrough { words.append("[\(passthrough)...]") }
        return words.joined(separator: " ")
    }

    var help: String {
        var text = "\(abstract)\n\nUsage: \(usage)\n"
        guard !flags.isEmpty else { return text }
        text += "\nFlags:\n"
        let labels = flags.map { flag in flag.names.joined(separator: ", ") + (flag.value.map { " " + $0 } ?? "") }
        let width = labels.map(\.count).max() ?? 0
        for (label, flag) in zip(labels, flags) {
            text += "  " + label + String(repeating: " ", count: width - label.count + 2) + flag.help + "\n"
        }
        return text
    }
}

/// The flags and positionals of one command line, as CommandSyntax.parse found them. Flags are looked up by
/// their key (the first long name, e.g. "--bundle").
struct ParsedArguments {
    /// Flag keys and values in command-line order (a list: a handful of flags, and a dictionary's first use
    /// costs more in runtime metadata than searching it). A boolean flag's value is "true".
    private var values: [(key: String, value: String)] = []
    var positionals: [String] = []
    var passthrough: [String] = []
    /// `-h` or `--help` came among the flags: print the command's help instead of running it.
    var helpRequested = false

    mutating func append(_ key: String, _ value: String) { values.append((key, value)) }
    mutating func set(_ key: String, _ value: String) {
        unset(key)
        values.append((key, value))
    }
    mutating func unset(_ key: String) { values.removeAll { $0.key == key } }

    /// Whether a boolean flag was given.
    func isSet(_ key: String) -> Bool { values.contains { $0.key == key } }

    /// The last value given for `key` (runc: a repeated flag's last value wins).
    func value(_ key: String) -> String? { values.last { $0.key == key }?.value }

    /// Every value given for a repeatable flag, in order.
    func all(_ key: String) -> [String] { values.filter { $0.key == key }.map(\.value) }

    /// The value of `key` as a number; a UsageError names the flag when it is not one.
    func number<Number: FixedWidthInteger>(_ key: String, as _: Number.Type = Number.self) throws -> Number? {
        guard let text = value(key) else { return nil }
        guard let number = Number(text) else {
            throw UsageError("\(key): \"\(text)\" is not a valid \(Number.isSigned ? "integer" : "non-negative integer")")
        }
        return number
    }

    /// The positional at `index`, or nil when it was not given (optional positionals).
    func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
