//! The one version number: Cargo.toml's `version`. MODULE LIST shows it as an integer,
//! `major * 10000 + minor * 100 + patch` (RedisJSON's scheme: 0.1.0 is 100, 1.2.3 is 10203);
//! COMMAND DOCS `since` shows the version that added each command.

/// Cargo.toml's version, e.g. "0.1.0".
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version as MODULE LIST's `ver`.
pub const MODULE_VERSION: i32 = encode(
    env!("CARGO_PKG_VERSION_MAJOR"),
    env!("CARGO_PKG_VERSION_MINOR"),
    env!("CARGO_PKG_VERSION_PATCH"),
);

/// The version that added the commands of the first release (COMMAND DOCS `since`).
pub const FIRST: &str = "0.1.0";

const fn number(s: &str) -> i32 {
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version parts are decimal numbers");
        n = n * 10 + (b[i] - b'0') as i32;
        i += 1;
    }
    n
}

const fn encode(major: &str, minor: &str, patch: &str) -> i32 {
    let (major, minor, patch) = (number(major), number(minor), number(patch));
    assert!(
        minor < 100 && patch < 100,
        "minor and patch must stay below 100 for MODULE LIST's number"
    );
    major * 10000 + minor * 100 + patch
}

#[cfg(test)]
mod tests {
    #[test]
    fn module_version_encoding() {
        assert_eq!(super::encode("0", "1", "0"), 100);
        assert_eq!(super::encode("1", "2", "3"), 10203);
        assert_eq!(super::encode("2", "8", "3"), 20803);
        assert_eq!(
            super::MODULE_VERSION,
            super::encode(
                env!("CARGO_PKG_VERSION_MAJOR"),
                env!("CARGO_PKG_VERSION_MINOR"),
                env!("CARGO_PKG_VERSION_PATCH")
            )
        );
    }
}
