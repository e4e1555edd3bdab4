extension StringProtocol {
    /// The text without leading and trailing whitespace and newlines. Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` does the same through CharacterSet, which links ICU's data
    /// (tens of MB) into a static binary that uses it.
    public var trimmedWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
