import FoundationEssentials

/// A type read straight from a JSONNode (no Codable). `path` is the value's JSON path for error messages
/// (`linux.namespaces[2]`); errors read as Codable's did: `root.path: expected a string`. Public so that
/// the runtime reads its state.json (ContainerRecord) the same way, reusing the spec types' readers.
public protocol JSONReadable {
    init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError)
}

extension JSONReadable {
    /// Parses a whole document and reads it as `Self`. Errors start with `file` (when not empty), then the JSON
    /// path: `state.json: cgroups.paths: expected an object`, `state.json: invalid JSON: ... at byte 12`.
    public static func read(_ bytes: [UInt8], file: String = "") throws(SpecError) -> Self {
        do {
            let document = try JSONNode.parse(bytes)
            return try Self(json: document, path: "", document: bytes)
        } catch {
            throw SpecError(path: "", file.isEmpty ? error.description : "\(file): \(error.description)")
        }
    }
}

/// The members of one JSON object, read by key with the object's path.
public struct JSONObject {
    let members: [(key: String, node: JSONNode)]
    let path: String
    let document: [UInt8]

    public init(_ node: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .object(let members) = node.value else { throw SpecError(path: path, "expected an object") }
        self.members = members
        self.path = path
        self.document = document
    }

    public func childPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member's node; nil when absent or null (as Codable's decodeIfPresent).
    public func node(_ key: String) -> JSONNode? {
        guard let node = members.last(where: { $0.key == key })?.node else { return nil }
        if case .null = node.value { return nil }
        return node
    }

    public func optional<Value: JSONReadable>(_ key: String, as _: Value.Type = Value.self) throws(SpecError) -> Value? {
        guard let node = node(key) else { return nil }
        return try Value(json: node, path: childPath(key), document: document)
    }

    public func required<Value: JSONReadable>(_ key: String, as _: Value.Type = Value.self) throws(SpecError) -> Value {
        guard let member = members.last(where: { $0.key == key }) else {
            throw SpecError(path: childPath(key), "missing required field")
        }
        if case .null = member.node.value {
            throw SpecError(path: childPath(key), "expected \(JSONNode.expectation(for: Value.self)), found null")
        }
        return try Value(json: member.node, path: childPath(key), document: document)
    }

    /// A field seldom present, read by JSONDecoder from the member's own bytes; its errors get this path.
    public func decoded<Value: Decodable>(_ key: String, as _: Value.Type = Value.self) throws(SpecError) -> Value? {
        guard let node = node(key) else { return nil }
        do {
            return try JSONDecoder().decode(Value.self, from: Data(document[node.range]))
        } catch let error as DecodingError {
            throw Spec.specError(error, under: childPath(key))
        } catch {
            throw SpecError(path: childPath(key), "\(error)")
        }
    }
}

extension JSONNode {
    /// "a string", "an integer", ...: what a type expects, for messages.
    static func expectation(for type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return "an integer"
        case is [String].Type: return "an array of strings"
        default:
            return "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

extension String: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .string(let text) = json.value else { throw SpecError(path: path, "expected a string") }
        self = text
    }
}

extension Bool: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .bool(let value) = json.value else { throw SpecError(path: path, "expected a boolean") }
        self = value
    }
}

/// Integers as JSONDecoder reads them: the literal in range, or a number with a fraction or exponent that is
/// exactly an integer in range (1e3, 2.0).
public protocol JSONInteger: FixedWidthInteger, JSONReadable {}

extension JSONInteger {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .number(let text) = json.value else { throw SpecError(path: path, "expected an integer") }
        if let value = Self(text) {
            self = value
        } else if let double = Double(text), let value = Self(exactly: double) {
            self = value
        } else {
            throw SpecError(path: path, "number \(text) is not representable as \(Self.self)")
        }
    }
}

extension Int: JSONInteger {}
extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension UInt16: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}

extension Array: JSONReadable where Element: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .array(let elements) = json.value else {
            throw SpecError(path: path, "expected \(JSONNode.expectation(for: Self.self))")
        }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            if case .null = element.value {
                throw SpecError(path: "\(path)[\(index)]", "expected \(JSONNode.expectation(for: Element.self)), found null")
            }
            result.append(try Element(json: element, path: "\(path)[\(index)]", document: document))
        }
        self = result
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        guard case .object(let members) = json.value else { throw SpecError(path: path, "expected an object") }
        var result: [String: Value] = [:]
        for (key, node) in members {
            let memberPath = path.isEmpty ? key : path + "." + key
            if case .null = node.value {
                throw SpecError(path: memberPath, "expected \(JSONNode.expectation(for: Value.self)), found null")
            }
            result[key] = try Value(json: node, path: memberPath, document: document)
        }
        self = result
    }
}
