/// One row of a command's flag table: every name it answers to, whether it takes a value, whether it may be
/// given more than once, and its line of help.
public struct Flag: Sendable {
    /// Written as on the command line: `-b`, `--bundle`, or (Go style) `-namespace`. The first long name is the key
    /// the parsed values are read back by.
    public let names: [String]
    /// For a flag that takes a value, the placeholder shown in the help (`DIR`); nil for a boolean flag.
    public let placeholder: String?
    /// A boolean flag that also takes one of these words as its value from the next argument (runc's
    /// `--rootless true|false|auto`). Empty for every other flag.
    public let optionalValues: [String]
    /// Every value is kept (`-e A=1 -e B=2`); for the others a repeated flag's last value wins, as in runc and docker.
    public let repeatable: Bool
    public let help: String

    public init(_ names: String..., value placeholder: String? = nil, optionalValues: [String] = [],
                repeatable: Bool = false, help: String) {
        precondition(!names.isEmpty && names.allSatisfy { $0.hasPrefix("-") }, "flag names start with a dash")
        self.names = names
        self.placeholder = placeholder
        self.optionalValues = optionalValues
        self.repeatable = repeatable
        self.help = help
    }

    public var takesValue: Bool { placeholder != nil }

    /// The name parsed values are stored under: the first `--` name, else the first name.
    public var key: String { names.first { $0.hasPrefix("--") } ?? names[0] }

    /// Whether this flag is `bare` (a name without its dashes, what Go's flag package matches) with one or two
    /// dashes. String comparisons only: comparing Substrings goes through a dynamic cast whose first use costs a
    /// conformance lookup at every start.
    func matches(bare: String) -> Bool {
        names.contains { $0 == "-" + bare || $0 == "--" + bare }
    }
}

/// How a command line spells its flags.
public enum FlagStyle: Sendable {
    /// Go's flag package (the shim's contract with containerd) and urfave/cli (runc's command line, which
    /// containerd-shim-runc-v2, conmon and podman drive): one or two dashes for any name (`-bundle`, `--bundle`,
    /// `-b`), `-name value` or `-name=value`, booleans as `-name` or `-name=true|false`; no grouping.
    case go
    /// POSIX and GNU, as docker's CLI: `-x` short and `--name` long, grouped shorts (`-it`), a short's value
    /// attached or next (`-e A=1`, `-eA=1`), `--name=value`.
    case posix
}
