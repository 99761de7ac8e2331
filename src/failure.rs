//! Why a command failed. Its own module so that the commands return it
//! without importing `main`, which calls them.

/// Why a command failed, which decides the exit code.
pub enum Failure {
    /// The user's input is wrong: exit 2.
    BadInput(String),
    /// Something broke that the input did not cause: exit 1.
    Internal(String),
    /// Some runs failed, the others completed: exit 3.
    RunsFailed(String),
    /// A gate of `compare` or `bench` failed (the comparison itself went
    /// through): exit 1, the code CI systems read as a failed check.
    GateFailed(String),
}
