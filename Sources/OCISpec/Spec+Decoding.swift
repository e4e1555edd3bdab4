import FoundationEssentials

extension Spec {
    /// Decodes a config.json. Errors name `file` and the JSON path of the field at fault.
    public static func decode(_ bytes: [UInt8], file: String = "config.json") throws(SpecError) -> Spec {
        do {
            return try JSONDecoder().decode(Spec.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw SpecError(path: "", "\(file): \(describe(error))")
        } catch {
            throw SpecError(path: "", "\(file): \(error)")
        }
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
            return "\(prefix(context))expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(prefix(context))expected \(typeName(type)), found null"
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

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return "an integer"
        case is [String].Type: return "an array of strings"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

extension State {
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
