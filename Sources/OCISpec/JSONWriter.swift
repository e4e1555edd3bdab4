import FoundationEssentials

/// Writes JSON directly, without JSONEncoder: the runtime writes a state.json at every create, and Codable's
/// generic metadata work made that slow. Output is what JSONEncoder writes for the same Codable types (nil
/// optionals left out, slashes not escaped), so JSONDecoder reads it back unchanged.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// No member or element written yet in the innermost object or array.
    private var atStart = true

    public init() {
        bytes.reserveCapacity(2048)
    }

    /// An object; `body` writes its members with `field`.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        let outer = atStart
        atStart = true
        body(&self)
        atStart = outer
        bytes.append(UInt8(ascii: "}"))
    }

    /// A member, left out when `value` is nil (as Codable's encodeIfPresent).
    public mutating func field<Value: JSONWritable>(_ key: String, _ value: Value?) {
        guard let value else { return }
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        value.write(to: &self)
    }

    /// A member written by JSONEncoder, for the seldom used types (JSONEncoder fails only on non-finite floats,
    /// which none of them has).
    public mutating func encodedField<Value: Encodable>(_ key: String, _ value: Value?) {
        guard let value, let encoded = try? JSONEncoder().encode(value) else { return }
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: encoded)
    }

    public mutating func array<Element: JSONWritable>(_ elements: [Element]) {
        bytes.append(UInt8(ascii: "["))
        let outer = atStart
        atStart = true
        for element in elements {
            separate()
            element.write(to: &self)
        }
        atStart = outer
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func separate() {
        if !atStart { bytes.append(UInt8(ascii: ",")) }
        atStart = false
    }
}

/// A value JSONWriter writes directly.
public protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

extension String: JSONWritable {
    public func write(to writer: inout JSONWriter) { writer.string(self) }
}

extension Bool: JSONWritable {
    public func write(to writer: inout JSONWriter) { writer.raw(self ? "true" : "false") }
}

extension Int: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }
extension Int32: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }
extension Int64: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }
extension UInt16: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }
extension UInt32: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }
extension UInt64: JSONWritable { public func write(to writer: inout JSONWriter) { writer.raw(String(self)) } }

extension Array: JSONWritable where Element: JSONWritable {
    public func write(to writer: inout JSONWriter) { writer.array(self) }
}

/// Members in key order (JSONEncoder's sortedKeys), so the same value always gives the same bytes.
extension Dictionary: JSONWritable where Key == String, Value: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            for key in keys.sorted() { writer.field(key, self[key]) }
        }
    }
}
