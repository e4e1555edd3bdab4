extension UnixSocket.PeerCredentials {
    /// Credentials built by hand (tests, transports that are not sockets); the memberwise init is internal.
    public static func of(pid: Int32, uid: UInt32, gid: UInt32) -> UnixSocket.PeerCredentials {
        UnixSocket.PeerCredentials(pid: pid, uid: uid, gid: gid)
    }
}
