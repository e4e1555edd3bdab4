/// The flags and positionals of one command line, as CommandSyntax.parse found them. Values are read by a flag's
/// key (its first long name, e.g. "--bundle"); a boolean flag that was given has the value "true".
public struct ParsedFlags: Sendable {
    /// The command these belong to, for the errors of the typed readers below.
    public let command: String
    /// Keys and values in command-line order, as two lists of strings: a handful of flags; a dictionary's or a
    /// tuple array's first use costs more in runtime type metadata at start-up than searching a [String], whose
    /// metadata every process already has (CommandLine.arguments).
    public private(set) var keys: [String] = []
    public private(set) var values: [String] = []
    public var positionals: [String] = []
    /// The trailing command line (CommandSyntax.passthrough), verbatim; after a help request, what followed it.
    public var passthrough: [String] = []
    /// `-h` or `--help` came among the flags: print the command's help instead of running it.
    public var helpRequested = false

    public init(command: String = "") { self.command = command }

    mutating func add(_ flag: Flag, _ value: String) {
        if !flag.repeatable { remove(flag.key) }
        keys.append(flag.key)
        values.append(value)
    }

    mutating func remove(_ key: String) {
        while let index = keys.firstIndex(of: key) {
            keys.remove(at: index)
            values.remove(at: index)
        }
    }

    /// Whether a boolean flag was given (and not turned off again with `=false`).
    public func isSet(_ key: String) -> Bool { keys.contains(key) }

    /// The value given for `key` (the last one, for a flag given twice).
    public func value(_ key: String) -> String? { keys.lastIndex(of: key).map { values[$0] } }

    /// The value of a flag the command cannot do without; a FlagError names it when it was not given.
    public func required(_ key: String) throws(FlagError) -> String {
        guard let value = value(key) else { throw FlagError(command: command, "\(key) is required") }
        return value
    }

    /// Every value given for a repeatable flag, in order.
    public func all(_ key: String) -> [String] { keys.indices.filter { keys[$0] == key }.map { values[$0] } }

    /// The value of `key` as a number; a FlagError names the flag when it is not one.
    @inlinable
    public func number<Number: FixedWidthInteger>(_ key: String, as _: Number.Type = Number.self) throws(FlagError) -> Number? {
        guard let text = value(key) else { return nil }
        guard let number = Number(text) else {
            throw FlagError(command: command, "\(key): \"\(text)\" is not a valid \(Number.isSigned ? "integer" : "non-negative integer")")
        }
        return number
    }

    /// The positional at `index`, or nil when it was not given (optional positionals).
    public func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}
