#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it held (it is asked once
/// more at the deadline, so a slow last step still counts). The one polling loop of the tests.
@discardableResult
public func waitUntil(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
