/// A config.json that cannot be used: the message starts with the file and/or JSON path at fault,
/// e.g. `config.json: root.path: expected a string` or `linux.namespaces[2].type: unknown namespace "foo"`.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON path of the field at fault (`process.args`, `linux.namespaces[2].type`), or "" for the document.
    public let path: String
    public let message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Renders a Codable coding path as a JSON path: `linux.namespaces[2].type`.
func jsonPath(_ codingPath: [any CodingKey]) -> String {
    var result = ""
    for key in codingPath {
        if let index = key.intValue {
            result += "[\(index)]"
        } else {
            result += result.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return result
}
