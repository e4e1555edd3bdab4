import FoundationEssentials

extension Spec {
    /// Decodes a config.json. Errors name `file` and the JSON path of the field at fault. Read directly
    /// (JSONNode, `Spec+Reading.swift`), not through JSONDecoder: Codable's runtime metadata work was a measurable
    /// part of every create; the result is the same `Spec` the Codable conformance decodes.
    public static func decode(_ bytes: [UInt8], file: String = "config.json") throws(SpecError) -> Spec {
        try Spec.read(bytes, file: file)
    }

    /// A JSONDecoder error inside the value at `path`, as a SpecError naming the full JSON path.
    static func specError(_ error: DecodingError, under path: String) -> SpecError {
        let inner: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let context): inner = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): inner = context.codingPath
        @unknown default: inner = []
        }
        let relative = jsonPath(inner)
        let full = relative.isEmpty ? path : relative.hasPrefix("[") ? path + relative : path + "." + relative
        let message = describe(error)
        // describe() starts with the relative path when there is one; restate it from the top.
        let detail = relative.isEmpty ? message : String(message.dropFirst(relative.count + 2))
        return SpecError(path: full, detail)
    }

    /// The spec as JSON (stable key order).
    public func encoded(pretty: Bool = false) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let path = jsonPath(context.codingPath + [key])
            return "\(path): missing required field"
        case .typeMismatch(let type, let context):
            return "\(prefix(context))expected \(JSONNode.expectation(for: type))"
        case .valueNotFound(let type, let context):
            return "\(prefix(context))expected \(JSONNode.expectation(for: type)), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError.map { "\($0)" }) ?? context.debugDescription
                return "invalid JSON: \(detail)"
            }
            return "\(prefix(context))\(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func prefix(_ context: DecodingError.Context) -> String {
        let path = jsonPath(context.codingPath)
        return path.isEmpty ? "" : path + ": "
    }
}

extension State {
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
