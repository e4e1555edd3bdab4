extension Hooks {
    /// The points in the lifecycle where hooks run (runtime-spec "POSIX-platform Hooks"), in the order they run.
    public enum Phase: String, CaseIterable, Sendable {
        /// Deprecated; runs with createRuntime (before it), in the runtime namespace.
        case prestart
        /// Runtime namespace, once the container's namespaces and cgroups exist, before pivot_root.
        case createRuntime
        /// Container namespaces (its mount namespace), before pivot_root; paths resolve in the runtime's view.
        case createContainer
        /// Inside the container (after pivot_root), after `start`, before the user process is executed.
        case startContainer
        /// Runtime namespace, after the user process started, before `start` returns.
        case poststart
        /// Runtime namespace, after the container is deleted, before `delete` returns.
        case poststop
    }

    public subscript(phase: Phase) -> [Hook] {
        switch phase {
        case .prestart: return prestart ?? []
        case .createRuntime: return createRuntime ?? []
        case .createContainer: return createContainer ?? []
        case .startContainer: return startContainer ?? []
        case .poststart: return poststart ?? []
        case .poststop: return poststop ?? []
        }
    }

    /// Every hook's path is absolute, its timeout (when set) positive. Errors name `hooks.<phase>[i].<field>`.
    public func validate(path: String) throws(SpecError) {
        for phase in Phase.allCases {
            for (index, hook) in self[phase].enumerated() {
                let field = "\(path).\(phase.rawValue)[\(index)]"
                if !hook.path.hasPrefix("/") {
                    throw SpecError(path: field + ".path", "must be an absolute path, got \"\(hook.path)\"")
                }
                if let timeout = hook.timeout, timeout <= 0 {
                    throw SpecError(path: field + ".timeout", "must be greater than zero, got \(timeout)")
                }
            }
        }
    }
}
