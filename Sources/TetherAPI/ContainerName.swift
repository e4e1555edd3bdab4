import TetherSystem

/// Docker's rule for a container name, checked by tetherctl and again by tetherd (the API refuses a bad name from
/// any client): `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 128 characters (docker sets no length; a name is printed by
/// `ps` and `events`, and 128 is more than any generated or human name needs).
public enum ContainerName {
    public static let rule = "[a-zA-Z0-9][a-zA-Z0-9_.-]*"
    public static let maximumLength = 128

    /// Why `name` is not a valid container name (a message naming the rule), or nil when it is one.
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else {
            return "invalid container name \"\": a name must not be empty (only \(rule) is allowed)"
        }
        if bytes.count > maximumLength {
            return "invalid container name (\(bytes.count) characters): at most \(maximumLength) are allowed"
        }
        if !isAlphanumeric(first) || !bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) {
            return "invalid container name \(PrintableText.quoted(name)): only \(rule) is allowed"
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
