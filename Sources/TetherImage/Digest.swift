/// A content digest, `sha256:<64 lowercase hex>`: the only algorithm the OCI image spec requires and the only one
/// this store accepts, so that a digest is also a safe file name.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public static let algorithm = "sha256"

    /// The 64 lowercase hex digits.
    public let hex: String

    /// Parses `sha256:<hex>`; anything else (another algorithm, wrong length, upper case) throws naming the input.
    public init(parsing text: String) throws {
        let prefix = Self.algorithm + ":"
        guard text.hasPrefix(prefix) else {
            throw ImageError(.invalidReference, "digest \"\(text)\": only sha256 digests are supported")
        }
        let hex = String(text.dropFirst(prefix.count))
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw ImageError(.invalidReference, "digest \"\(text)\": expected sha256: and 64 lowercase hex digits")
        }
        self.hex = hex
    }

    /// From 64 lowercase hex digits already known to be valid (a hash just computed).
    public init(hex: String) {
        precondition(hex.utf8.count == 64, "a sha256 digest has 64 hex digits")
        self.hex = hex
    }

    public var description: String { Self.algorithm + ":" + hex }
    /// The first 12 hex digits, as docker shows an image id.
    public var shortID: String { String(hex.prefix(12)) }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }
}
