/// What one command accepts after its name: a flag table, positional arguments and, for commands that run
/// another command line (`exec`, `run`), a trailing part passed through untouched.
///
/// Flags may come between positionals (runc, docker's non-run commands). Once every declared positional is
/// given, a command with a `passthrough` takes the rest verbatim, flags included: `exec ID sh -c x` never reads
/// `-c`. `--` ends the flags; `-` is a positional. `-h` or `--help` (and Go style's `-help`) asks for the help.
public struct CommandSyntax: Sendable {
    /// The tool, for the usage line (`tetherctl`).
    public let program: String
    /// The command (`run`), or "" for a tool without commands (`tetherd`, `tether-shim`).
    public let name: String
    public let abstract: String
    public let style: FlagStyle
    public let flags: [Flag]
    /// Positional arguments that must be given, in order (upper case in the help).
    public let required: [String]
    /// Positional arguments that may follow the required ones.
    public let optional: [String]
    /// The last positional may be given any number of times (`rm A B C`).
    public let variadic: Bool
    /// The name of a trailing command line taken verbatim after the positionals (nil: none accepted).
    public let passthrough: String?

    public init(program: String, name: String = "", abstract: String, style: FlagStyle, flags: [Flag] = [],
                required: [String] = [], optional: [String] = [], variadic: Bool = false, passthrough: String? = nil) {
        self.program = program
        self.name = name
        self.abstract = abstract
        self.style = style
        self.flags = flags
        self.required = required
        self.optional = optional
        self.variadic = variadic
        self.passthrough = passthrough
    }

    /// The flag a name written on the command line means (`--bundle`, `-b`, and in Go style `-bundle`, `--b`).
    public func flag(named written: String) -> Flag? {
        switch style {
        case .posix:
            return flags.first { $0.names.contains(written) }
        case .go:
            let bare = String(written.dropFirst(written.hasPrefix("--") ? 2 : 1))
            return flags.first { $0.matches(bare: bare) }
        }
    }

    /// Splits `arguments` (everything after the command's name) into flag values, positionals and the passthrough.
    public func parse(_ arguments: [String]) throws(FlagError) -> ParsedFlags {
        var parsed = ParsedFlags(command: name)
        var index = 0
        var flagsEnded = false
        let positionalCount = required.count + optional.count
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if passthrough != nil && parsed.positionals.count == positionalCount {
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
            if argument == "-h" || argument == "--help" || (style == .go && argument == "-help") {
                parsed.helpRequested = true
                parsed.passthrough = Array(arguments[index...])
                return parsed
            }
            if style == .posix && !argument.hasPrefix("--") {
                try parseShortGroup(argument, arguments, &index, into: &parsed)
                continue
            }
            var written = argument
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                written = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            guard let flag = flag(named: written) else { throw error("unknown flag \(written)") }
            if flag.takesValue {
                if let inline {
                    parsed.add(flag, inline)
                } else {
                    guard index < arguments.count else { throw error("\(written) needs a value") }
                    parsed.add(flag, arguments[index])
                    index += 1
                }
                continue
            }
            guard let inline else {
                if index < arguments.count, flag.optionalValues.contains(arguments[index]) {
                    parsed.add(flag, arguments[index])
                    index += 1
                } else {
                    parsed.add(flag, "true")
                }
                continue
            }
            if !flag.optionalValues.isEmpty {
                parsed.add(flag, inline)
            } else if let on = Self.boolean(inline) {
                if on { parsed.add(flag, "true") } else { parsed.remove(flag.key) }
            } else {
                throw error("\(written) takes no value (got \"\(inline)\"; true or false)")
            }
        }
        if parsed.positionals.count < required.count {
            throw error("missing \(required[parsed.positionals.count...].joined(separator: " ")) (usage: \(usage))")
        }
        if parsed.positionals.count > positionalCount && !variadic {
            throw error("unexpected argument \"\(parsed.positionals[positionalCount])\" (usage: \(usage))")
        }
        return parsed
    }

    /// `-it`, `-eA=1`, `-e A=1`: each letter a short flag; one that takes a value takes the rest of the group
    /// (after an optional `=`) or else the next argument.
    private func parseShortGroup(_ argument: String, _ arguments: [String], _ index: inout Int,
                                 into parsed: inout ParsedFlags) throws(FlagError) {
        var rest = Substring(argument.dropFirst())
        while let letter = rest.first {
            rest = rest.dropFirst()
            let written = "-" + String(letter)
            guard let flag = flags.first(where: { $0.names.contains(written) }) else {
                throw error(argument.count > 2 ? "unknown flag \(written) in \(argument)" : "unknown flag \(written)")
            }
            guard flag.takesValue else {
                if rest.hasPrefix("=") { throw error("\(written) takes no value (in \(argument))") }
                parsed.add(flag, "true")
                continue
            }
            if rest.hasPrefix("=") { rest = rest.dropFirst() }
            if !rest.isEmpty {
                parsed.add(flag, String(rest))
            } else {
                guard index < arguments.count else { throw error("\(written) needs a value") }
                parsed.add(flag, arguments[index])
                index += 1
            }
            return
        }
    }

    /// Go's strconv.ParseBool, which both Go's flag package and urfave/cli use for `-name=VALUE` booleans.
    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    public func error(_ message: String) -> FlagError { FlagError(command: name, message) }
}
