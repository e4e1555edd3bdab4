/// The OCI runtime-spec version these types follow.
public enum OCIVersion {
    public static let current = "1.2.0"
}
