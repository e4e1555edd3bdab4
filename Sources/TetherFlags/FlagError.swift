/// A command line that could not be read: the command it was for and a message naming the argument at fault.
/// Each tool prints it as one line (`tether-runtime: run: unknown flag --bogus`) and exits with its usage status.
public struct FlagError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The command whose arguments were wrong ("" for a tool's own flags, before any command).
    public let command: String
    public let message: String

    public init(command: String = "", _ message: String) {
        self.command = command
        self.message = message
    }

    public var description: String { command.isEmpty ? message : "\(command): \(message)" }
}
