import Testing
@testable import TetherDaemon

@Suite("restart policy")
struct RestartPolicyTests {
    @Test(arguments: [
        ("", RestartPolicy.no), ("no", .no), ("always", RestartPolicy(kind: .always, maximum: nil)),
        ("on-failure", RestartPolicy(kind: .onFailure, maximum: nil)), ("on-failure:3", RestartPolicy(kind: .onFailure, maximum: 3)),
        ("on-failure:0", RestartPolicy(kind: .onFailure, maximum: 0)),
    ])
    func parses(_ text: String, _ expected: RestartPolicy) {
        #expect(RestartPolicy.parse(text) == expected)
    }

    @Test(arguments: ["yes", "always:2", "on-failure:", "on-failure:-1", "on-failure:x", "On-Failure", " no", "unless-stopped"])
    func refuses(_ text: String) {
        #expect(RestartPolicy.parse(text) == nil)
    }

    @Test(arguments: ["no", "always", "on-failure", "on-failure:5"])
    func describesItselfAsItIsWritten(_ text: String) throws {
        #expect(try #require(RestartPolicy.parse(text)).description == text)
    }

    @Test func decidesWhetherToRestart() {
        #expect(!RestartPolicy.no.shouldRestart(exitCode: 1, restarts: 0))
        let always = RestartPolicy(kind: .always, maximum: nil)
        #expect(always.shouldRestart(exitCode: 0, restarts: 1000) && always.shouldRestart(exitCode: 137, restarts: 0))
        let onFailure = RestartPolicy(kind: .onFailure, maximum: nil)
        #expect(!onFailure.shouldRestart(exitCode: 0, restarts: 0))
        #expect(onFailure.shouldRestart(exitCode: 1, restarts: 1000))
        let twice = RestartPolicy(kind: .onFailure, maximum: 2)
        #expect(twice.shouldRestart(exitCode: 1, restarts: 0) && twice.shouldRestart(exitCode: -1, restarts: 1))
        #expect(!twice.shouldRestart(exitCode: 1, restarts: 2) && !twice.shouldRestart(exitCode: 0, restarts: 0))
        #expect(!RestartPolicy(kind: .onFailure, maximum: 0).shouldRestart(exitCode: 1, restarts: 0))
    }

    @Test func backsOffExponentiallyUpToTenSeconds() {
        #expect((0...9).map { RestartPolicy.backoff(restarts: $0) } ==
                [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000])
        #expect(RestartPolicy.backoff(restarts: .max) == 10_000)
    }
}
